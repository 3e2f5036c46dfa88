// Command mklayer builds the lambda-rasp Lambda layer zips, one per
// architecture, reproducibly:
//
//	go run ./layer/cmd/mklayer -version v0.1.0 -out dist
//
// writes dist/lambda-rasp-v0.1.0-x86_64.zip and dist/lambda-rasp-v0.1.0-arm64.zip.
package main
