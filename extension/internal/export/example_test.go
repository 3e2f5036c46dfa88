package export_test

import (
	"fmt"
	"os"

	"github.com/lambda-rasp/lambda-rasp/extension/internal/export"
)

func ExampleFromEnv() {
	env := map[string]string{
		"LAMBDA_RASP_PUSHGATEWAY_URL": "http://127.0.0.1:9091",
		"LAMBDA_RASP_EMF":             "on",
	}
	cfg, err := export.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		fmt.Println(err)
		return
	}
	exps, err := export.New(cfg, "orders", "i-1", os.Stdout, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range exps {
		fmt.Println(e.Name())
	}
	fmt.Println(cfg.Timeout, cfg.FlushInterval)

	_, err = export.FromEnv(func(k string) string {
		if k == "LAMBDA_RASP_METRICS_ADDR" {
			return "0.0.0.0:9464"
		}
		return ""
	})
	fmt.Println(err)
	// Output:
	// pushgateway
	// emf
	// 500ms 10s
	// export: LAMBDA_RASP_METRICS_ADDR: address is not loopback: "0.0.0.0"
}
