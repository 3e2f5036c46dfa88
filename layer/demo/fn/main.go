package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	_ "modernc.org/sqlite"

	"github.com/lambda-rasp/lambda-rasp/rasp"
)

// request is the union of the HTTP event shapes the demo accepts, plus SQS.
type request struct {
	// API Gateway REST (v1) and ALB.
	HTTPMethod            string            `json:"httpMethod"`
	Path                  string            `json:"path"`
	QueryStringParameters map[string]string `json:"queryStringParameters"`
	// HTTP API (v2) and Function URL.
	RawPath        string `json:"rawPath"`
	RequestContext struct {
		HTTP struct {
			Method string `json:"method"`
		} `json:"http"`
	} `json:"requestContext"`
	Body string `json:"body"`
	// SQS.
	Records []events.SQSMessage `json:"Records"`
}

type app struct {
	db      *sql.DB
	client  *http.Client
	assets  string
	partner string
}

func main() {
	db, err := rasp.OpenDB("sqlite", "file:demo?mode=memory&cache=shared")
	if err != nil {
		fmt.Fprintln(os.Stderr, "open database:", err)
		os.Exit(1)
	}
	if err := seed(db); err != nil {
		fmt.Fprintln(os.Stderr, "seed database:", err)
		os.Exit(1)
	}
	assets := os.Getenv("DEMO_ASSETS")
	if assets == "" {
		assets = filepath.Join(os.Getenv("LAMBDA_TASK_ROOT"), "assets")
	}
	a := &app{db: db, client: rasp.HTTPClient(), assets: assets, partner: os.Getenv("DEMO_PARTNER_URL")}
	// Partial batch responses: an SQS record the guard refuses is reported
	// in batchItemFailures while the rest of the batch is processed.
	rasp.Start(a.handle, rasp.WithPartialBatch(true))
}

func seed(db *sql.DB) error {
	stmts := []string{
		`CREATE TABLE IF NOT EXISTS products (name TEXT, price REAL)`,
		`CREATE TABLE IF NOT EXISTS orders (product TEXT, note TEXT)`,
		`INSERT INTO products VALUES ('espresso cup', 9.5), ('french press', 29), ('grinder', 89), ('milk jug', 14)`,
	}
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			return err
		}
	}
	return nil
}

func (a *app) handle(ctx context.Context, req request) (any, error) {
	if len(req.Records) > 0 {
		return a.orders(ctx, req.Records)
	}
	method, path := req.HTTPMethod, req.Path
	if req.RawPath != "" {
		method, path = req.RequestContext.HTTP.Method, req.RawPath
	}
	q := req.QueryStringParameters
	switch {
	case method == "GET" && path == "/products":
		return a.products(ctx, q["search"])
	case method == "GET" && path == "/preview":
		return a.preview(ctx, q["url"])
	case method == "GET" && path == "/docs":
		return a.doc(ctx, q["name"])
	case method == "POST" && path == "/orders":
		var o struct{ Product, Note string }
		if err := json.Unmarshal([]byte(req.Body), &o); err != nil {
			return reply(400, map[string]string{"error": "invalid JSON body"}), nil
		}
		return a.order(ctx, o.Product, o.Note)
	}
	return reply(404, map[string]string{"error": "not found"}), nil
}

// products builds its SQL by concatenation — the bug the SQL guard exists for.
func (a *app) products(ctx context.Context, search string) (any, error) {
	rows, err := a.db.QueryContext(ctx, "SELECT name, price FROM products WHERE name LIKE '%"+search+"%' ORDER BY name")
	if err != nil {
		return failure(err), nil
	}
	defer rows.Close()
	type product struct {
		Name  string  `json:"name"`
		Price float64 `json:"price"`
	}
	out := []product{}
	for rows.Next() {
		var p product
		if err := rows.Scan(&p.Name, &p.Price); err != nil {
			return failure(err), nil
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return failure(err), nil
	}
	prices, err := a.livePrices(ctx)
	if err != nil {
		return failure(err), nil
	}
	for i := range out {
		if p, ok := prices[out[i].Name]; ok {
			out[i].Price = p
		}
	}
	return reply(200, out), nil
}

// livePrices asks the partner API for current prices: an outbound call to
// a destination the policy allows.
func (a *app) livePrices(ctx context.Context) (map[string]float64, error) {
	if a.partner == "" {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.partner+"/prices", nil)
	if err != nil {
		return nil, err
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("partner API: %s", resp.Status)
	}
	var prices map[string]float64
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&prices); err != nil {
		return nil, fmt.Errorf("partner API: %w", err)
	}
	return prices, nil
}

// preview fetches a caller-supplied URL — SSRF-prone by design.
func (a *app) preview(ctx context.Context, url string) (any, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return reply(400, map[string]string{"error": "invalid url"}), nil
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return failure(err), nil
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 512))
	if err != nil {
		return failure(err), nil
	}
	return reply(200, map[string]any{"status": resp.StatusCode, "preview": string(body)}), nil
}

// doc reads a file named by the caller under the assets directory; the
// name is concatenated without cleaning, the bug the file guard exists for.
func (a *app) doc(ctx context.Context, name string) (any, error) {
	data, err := rasp.ReadFile(ctx, a.assets+"/"+name)
	if err != nil {
		return failure(err), nil
	}
	return reply(200, map[string]string{"name": name, "content": string(data)}), nil
}

func (a *app) order(ctx context.Context, product, note string) (any, error) {
	if _, err := a.db.ExecContext(ctx, "INSERT INTO orders VALUES ('"+product+"', '"+note+"')"); err != nil {
		return failure(err), nil
	}
	return reply(201, map[string]string{"status": "created"}), nil
}

// orders stores an SQS batch, reporting failed records individually.
func (a *app) orders(ctx context.Context, records []events.SQSMessage) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	for _, r := range records {
		var o struct{ Product, Note string }
		err := json.Unmarshal([]byte(r.Body), &o)
		if err == nil {
			_, err = a.db.ExecContext(ctx, "INSERT INTO orders VALUES (?, ?)", o.Product, o.Note)
		}
		if err != nil {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
		}
	}
	return resp, nil
}

// failure turns an error into a response; a guard's block becomes a 403
// without details, anything else a 500.
func failure(err error) map[string]any {
	var blocked *rasp.BlockedError
	if errors.As(err, &blocked) {
		return reply(403, map[string]string{"error": "blocked by runtime protection"})
	}
	if errors.Is(err, fs.ErrNotExist) {
		return reply(404, map[string]string{"error": "not found"})
	}
	return reply(500, map[string]string{"error": "internal error"})
}

// reply builds a response every HTTP event source accepts (API Gateway v1
// and v2, ALB, Function URL).
func reply(status int, v any) map[string]any {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = 500, []byte(`{"error":"internal error"}`)
	}
	return map[string]any{
		"statusCode":        status,
		"statusDescription": fmt.Sprintf("%d %s", status, http.StatusText(status)),
		"headers":           map[string]string{"content-type": "application/json"},
		"body":              strings.TrimSpace(string(body)),
		"isBase64Encoded":   false,
	}
}
