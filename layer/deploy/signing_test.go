package deploy_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// The deployment examples show what an organisation that enforces code
// signing needs: a layer per architecture, a code signing configuration
// with an AWS Signer profile on the function, and the IAM permissions of
// the remote-write exporter (Amazon Managed Prometheus) and of the AWS
// AppConfig agent that serves the policy.

// Actions each exporter or agent needs; the EMF exporter writes to the
// function's log and needs only the basic execution role.
var wantActions = []string{"aps:RemoteWrite", "appconfig:StartConfigurationSession", "appconfig:GetLatestConfiguration"}

func TestCloudFormationSigningAndPermissions(t *testing.T) {
	for _, file := range []string{"cloudformation/template.yaml", "sam/template.yaml"} {
		t.Run(file, func(t *testing.T) {
			tpl := loadCFN(t, file)

			// A layer resource for each architecture.
			archs := map[string]bool{}
			for _, res := range tpl.resources {
				if typ := get(res, "Type"); typ == nil || !strings.HasSuffix(typ.Value, "::LayerVersion") {
					continue
				}
				for _, a := range scalars(get(get(res, "Properties"), "CompatibleArchitectures")) {
					archs[a] = true
				}
			}
			if !archs["x86_64"] || !archs["arm64"] || len(archs) != 2 {
				t.Errorf("layer architectures = %v, want x86_64 and arm64", archs)
			}

			// Every function uses a code signing config that trusts a
			// signing profile.
			for fn := range tpl.functionLayers() {
				csc := get(get(tpl.resources[fn], "Properties"), "CodeSigningConfigArn")
				if csc == nil {
					t.Errorf("function %s has no CodeSigningConfigArn", fn)
					continue
				}
				var target string
				for _, s := range scalars(csc) {
					if res, _, ok := strings.Cut(s, "."); ok && tpl.resources[res] != nil {
						target = res
					}
				}
				res := tpl.resources[target]
				if typ := get(res, "Type"); typ == nil || typ.Value != "AWS::Lambda::CodeSigningConfig" {
					t.Errorf("function %s: CodeSigningConfigArn does not name an AWS::Lambda::CodeSigningConfig", fn)
					continue
				}
				props := get(res, "Properties")
				if get(get(props, "AllowedPublishers"), "SigningProfileVersionArns") == nil {
					t.Errorf("%s: no AllowedPublishers.SigningProfileVersionArns", target)
				}
				if get(get(props, "CodeSigningPolicies"), "UntrustedArtifactOnDeployment") == nil {
					t.Errorf("%s: no CodeSigningPolicies.UntrustedArtifactOnDeployment", target)
				}
			}

			// The IAM policies grant what the exporter and the agent need,
			// on the function's role.
			granted := map[string]bool{}
			for _, res := range tpl.resources {
				if typ := get(res, "Type"); typ == nil || typ.Value != "AWS::IAM::Policy" {
					continue
				}
				props := get(res, "Properties")
				if len(scalars(get(props, "Roles"))) == 0 {
					t.Errorf("IAM policy %s is attached to no role", scalars(get(props, "PolicyName")))
				}
				for _, st := range get(get(props, "PolicyDocument"), "Statement").Content {
					for _, a := range scalars(get(st, "Action")) {
						granted[a] = true
						if strings.HasPrefix(a, "appconfig:") {
							res := strings.Join(scalars(get(st, "Resource")), " ")
							if !strings.Contains(res, "application/${") || !strings.Contains(res, "/configuration/${") {
								t.Errorf("%s is granted on %q, want the configuration profile's ARN", a, res)
							}
						}
					}
				}
			}
			for _, a := range wantActions {
				if !granted[a] {
					t.Errorf("no IAM policy grants %s", a)
				}
			}
			checkEnvNames(t, file)
		})
	}
}

// checkEnvNames checks that every LAMBDA_RASP_ variable a deployment
// example sets is one the code reads, so a typo cannot hide.
func checkEnvNames(t *testing.T, file string) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	name := regexp.MustCompile(`"(LAMBDA_RASP_[A-Z0-9_]+)"`)
	for _, dir := range []string{"../../extension", "../../rasp", "../../rules"} {
		err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, m := range name.FindAllSubmatch(src, -1) {
				known[string(m[1])] = true
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range regexp.MustCompile(`\b(LAMBDA_RASP_[A-Z0-9_]+)\b`).FindAllStringSubmatch(string(data), -1) {
		if !known[m[1]] {
			t.Errorf("%s sets %s, which no code reads", file, m[1])
		}
	}
}

func TestTerraformSigningAndPermissions(t *testing.T) {
	files, err := filepath.Glob("terraform/*.tf")
	if err != nil || len(files) == 0 {
		t.Fatalf("no terraform files: %v", err)
	}
	blocks := map[string]*hclsyntax.Block{} // "type.name" for resources and data
	var src []byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src = append(src, b...)
		file, diags := hclsyntax.ParseConfig(b, f, hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatalf("%s: %v", f, diags)
		}
		for _, blk := range file.Body.(*hclsyntax.Body).Blocks {
			if blk.Type == "resource" || blk.Type == "data" {
				blocks[blk.Type+"."+blk.Labels[0]+"."+blk.Labels[1]] = blk
			}
		}
	}
	for _, want := range []string{
		"resource.aws_signer_signing_profile.lambda_rasp",
		"resource.aws_lambda_code_signing_config.lambda_rasp",
		"resource.aws_iam_role_policy.amp_remote_write",
		"resource.aws_iam_role_policy.appconfig",
	} {
		if blocks[want] == nil {
			t.Errorf("module does not declare %s", want)
		}
	}
	if fn := blocks["resource.aws_lambda_function.protected"]; fn == nil || fn.Body.Attributes["code_signing_config_arn"] == nil {
		t.Error("the function sets no code_signing_config_arn")
	}
	if p := blocks["resource.aws_signer_signing_profile.lambda_rasp"]; p != nil {
		v, _ := p.Body.Attributes["platform_id"].Expr.Value(nil)
		if v.AsString() != "AWSLambda-SHA384-ECDSA" {
			t.Errorf("signing profile platform = %s, want AWSLambda-SHA384-ECDSA", v.AsString())
		}
	}
	layer := blocks["resource.aws_lambda_layer_version.lambda_rasp"]
	if layer == nil || layer.Body.Attributes["for_each"] == nil {
		t.Error("the layer is not declared per architecture (for_each)")
	}
	for _, arch := range []string{"x86_64", "arm64"} {
		if !regexp.MustCompile(`(?m)^\s*` + arch + `\s*=\s*var\.layer_zip_` + arch).Match(src) {
			t.Errorf("no layer zip for %s", arch)
		}
	}
	for _, a := range wantActions {
		if !strings.Contains(string(src), `"`+a+`"`) {
			t.Errorf("no IAM policy grants %s", a)
		}
	}
}

// TestCfnLint runs cfn-lint, AWS's CloudFormation linter (resource types,
// properties, values, SAM transform), on the templates where it is
// installed.
func TestCfnLint(t *testing.T) {
	bin, err := exec.LookPath("cfn-lint")
	if err != nil {
		t.Skip("cfn-lint not installed (pip install cfn-lint); the templates are not linted")
	}
	templates := []string{"cloudformation/template.yaml", "sam/template.yaml"}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"--format", "parseable"}, templates...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("cfn-lint %s: %v\n%s", strings.Join(templates, " "), err, out)
	}
}
