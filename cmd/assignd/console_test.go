package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	neturl "net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5"

	"github.com/assign-dev/assign/auth"
	"github.com/assign-dev/assign/internal/testenv"
)

// chromiumPath is Debian's chromium (.ci/install-tools installs it).
const chromiumPath = "/usr/bin/chromium"

// consoleAdminToken signs the product owner in; it must never appear in a page,
// a response body, a URL, the storage or the log.
const consoleAdminToken = "po-console-token-0123456789abcdef"

// seedID is the seed's shipping-address experiment.
const seedID = "f380739f-62f3-4316-8acf-93ed5744cb9e"

// browser starts a headless Chromium for t, or skips loudly without one
// (fails under CI=true: the browser tests must run there).
func browser(t *testing.T, width, height int) (context.Context, context.CancelFunc) {
	t.Helper()
	path := chromiumPath
	if p := os.Getenv("ASSIGN_CHROMIUM"); p != "" {
		path = p
	}
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("chromium is required under CI=true (.ci/install-tools installs it): %v", err)
		}
		t.Skipf("SKIP: no chromium at %s (apt-get install chromium, or .ci/install-tools): the console's browser tests did not run", path)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 4*time.Minute)
	return ctx, func() { cancelTimeout(); cancelCtx(); cancelAlloc() }
}

// artifacts is where the screenshots go: $ASSIGN_TEST_ARTIFACTS, or a
// temporary directory of the test.
func artifacts(t *testing.T) string {
	dir := os.Getenv("ASSIGN_TEST_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// consoleServer runs assignd the way `make run` does (embedded Redis, a
// DuckDB warehouse in a temporary directory) with a known admin token and
// JWT secret, and returns it with its log.
func consoleServer(t *testing.T, configure func(*Config)) (*Main, *testenv.Buffer) {
	t.Helper()
	dir := t.TempDir()
	m := NewMain()
	m.Config.Addr = "127.0.0.1:0"
	m.Config.AdminTokens = "product-owner:" + consoleAdminToken
	m.Config.JWTSecret = testJWTSecret
	m.Config.WarehouseURL = filepath.Join(dir, "assign.duckdb")
	m.Config.ExportFlushInterval = 100 * time.Millisecond
	if configure != nil {
		configure(&m.Config)
	}
	logs := &testenv.Buffer{}
	m.Stdout = logs
	m.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m, logs
}

// waitJS polls a JavaScript condition until it is true.
func waitJS(ctx context.Context, t *testing.T, what, expr string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		// !!: an expression that stops at a null (an element not there yet)
		// is false, not an error.
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+expr+")"))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
			t.Fatalf("%s: not true after 20s: %s\npage:\n%s", what, expr, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func run(ctx context.Context, t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// click clicks the element of that id once it is there. It dispatches the
// click in the page: chromedp's own Click can wait forever on a page whose
// DOM the console redraws every two seconds (the live fill).
func click(ctx context.Context, t *testing.T, id string) {
	t.Helper()
	waitJS(ctx, t, "#"+id+" present", `!!document.getElementById(`+jsString(id)+`)`)
	run(ctx, t, "click #"+id, chromedp.Func(func(c context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool](`(document.getElementById(`+jsString(id)+`).click(), true)`)(c, tg)
		return err
	}))
}

func screenshot(ctx context.Context, t *testing.T, dir, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

func text(ctx context.Context, t *testing.T, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// sampleUser is a row of examples/shipping-address/users.csv.
type sampleUser struct {
	ID, OrdersWith, Amount string
	FirstOrder             bool
	MinutesToOrder         int
	PreviousDaysAgo        int // 0: none
}

func loadSampleUsers(t *testing.T) []sampleUser {
	f, err := os.Open("../../examples/shipping-address/users.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var users []sampleUser
	for _, r := range rows[1:] {
		u := sampleUser{ID: r[0], FirstOrder: r[1] == "true", OrdersWith: r[2], Amount: r[4]}
		fmt.Sscan(r[3], &u.MinutesToOrder)
		if r[5] != "" {
			fmt.Sscan(r[5], &u.PreviousDaysAgo)
		}
		users = append(users, u)
	}
	return users
}

// enrollSample enrolls users through the API as a client would, and returns
// the orders they then place with the journey they got (as assignctl
// demo-enroll plays them): CSV rows order_id, user_id, ordered_at, amount.
func enrollSample(t *testing.T, base string, users []sampleUser) (orders [][]string, answers map[string]int) {
	t.Helper()
	var mu sync.Mutex
	answers = map[string]int{}
	work := make(chan sampleUser)
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 10 * time.Second}
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for u := range work {
				token, err := auth.SignHS256([]byte(testJWTSecret), u.ID, time.Hour, map[string]any{"first_order": u.FirstOrder})
				if err != nil {
					t.Error(err)
					return
				}
				req, _ := http.NewRequest("POST", base+"/api/experiment-enrollments", strings.NewReader(`{"experiment_id":"`+seedID+`"}`))
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				var a struct {
					Enrolled bool   `json:"enrolled"`
					Group    string `json:"group_name"`
					Reason   string `json:"reason"`
				}
				err = json.NewDecoder(resp.Body).Decode(&a)
				resp.Body.Close()
				if err != nil || resp.StatusCode != 200 {
					t.Errorf("enroll %s: status %d: %v", u.ID, resp.StatusCode, err)
					return
				}
				after := time.Now().UTC()
				mu.Lock()
				if a.Enrolled {
					answers[a.Group]++
				} else {
					answers[a.Reason]++
				}
				if u.PreviousDaysAgo > 0 { // before the experiment: must not count
					orders = append(orders, []string{"", u.ID, after.AddDate(0, 0, -u.PreviousDaysAgo).Format(time.RFC3339Nano), u.Amount})
				}
				if a.Enrolled && (u.OrdersWith == "both" || u.OrdersWith == a.Group) {
					orders = append(orders, []string{"", u.ID, after.Add(time.Duration(u.MinutesToOrder) * time.Minute).Format(time.RFC3339Nano), u.Amount})
				}
				mu.Unlock()
			}
		}()
	}
	for _, u := range users {
		work <- u
	}
	close(work)
	wg.Wait()
	for i := range orders {
		orders[i][0] = fmt.Sprint(1000 + i)
	}
	return orders, answers
}

func writeOrders(t *testing.T, path string, orders [][]string) {
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := csv.NewWriter(f)
	w.Write([]string{"order_id", "user_id", "ordered_at", "amount"})
	w.WriteAll(orders)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestConsole_Browser walks the seed's example in the web console in a real
// headless Chromium: sign in (a forged token first), fail a validation then
// create the experiment through the form, enroll the sample users through the
// API and watch the fill move, pause and resume, read the results of the
// metrics file on the shipped sample data, roll the winner out; with
// screenshots of each page (desktop and phone), and checks that the token is
// in no page, response body, URL, storage or log line.
func TestConsole_Browser(t *testing.T) {
	dir := artifacts(t)
	ctx, cancel := browser(t, 1280, 900)
	defer cancel()
	// The shipped metrics file, reading the orders the sample users place in
	// this test (an absolute path: assignd runs elsewhere) and without its 7-day
	// windows, which close only a week after these users' enrollments.
	ordersCSV := filepath.Join(t.TempDir(), "orders.csv")
	writeOrders(t, ordersCSV, nil)
	shipped, err := os.ReadFile("../../examples/shipping-address/metrics.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(strings.ReplaceAll(string(shipped), "read_csv('orders.csv')", "read_csv('"+ordersCSV+"')"), "\n") {
		if strings.TrimSpace(l) != "window: 7d" {
			lines = append(lines, l)
		}
	}
	metricsFile := filepath.Join(t.TempDir(), "metrics.yaml")
	if err := os.WriteFile(metricsFile, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	m, logs := consoleServer(t, func(c *Config) {
		c.MetricsFile = metricsFile
		c.DemoUsers = "../../examples/shipping-address/users.csv"
	})
	base := m.Server.URL()

	// Every request and response the browser sees, to check for the token.
	var netMu sync.Mutex
	var urls []string
	// Each response body is read as soon as it is loaded (a navigation
	// drops the bodies of the page before), in a goroutine: the listener
	// must not call the browser.
	finished := make(chan network.RequestID, 10000)
	overflow := false
	var bodies int
	var leaked []string
	checked := make(chan struct{})
	go func() {
		defer close(checked)
		for id := range finished {
			r, err := chromedp.Call(ctx, network.GetResponseBody, network.GetResponseBodyParams{RequestID: id})
			if err != nil {
				continue // without a body (a 304, a redirect)
			}
			netMu.Lock()
			bodies++
			if strings.Contains(string(r.Body), consoleAdminToken) {
				leaked = append(leaked, fmt.Sprintf("%.200s", r.Body))
			}
			netMu.Unlock()
		}
	}()
	var jsErrors []string // uncaught exceptions of the console's script: each fails the test
	defer func() {
		netMu.Lock()
		defer netMu.Unlock()
		for _, e := range jsErrors {
			t.Errorf("JavaScript exception: %s", e)
		}
	}()
	run(ctx, t, "start the browser", chromedp.Navigate("about:blank"))
	if err := chromedp.Listen(ctx, func(ev any) {
		netMu.Lock()
		defer netMu.Unlock()
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			urls = append(urls, e.Request.URL)
		case *network.EventLoadingFinished:
			select {
			case finished <- e.RequestID:
			default:
				overflow = true
			}
		case *runtime.EventExceptionThrown:
			d := e.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			jsErrors = append(jsErrors, fmt.Sprintf("%s:%d: %s", d.URL, d.LineNumber, msg))
		}
	}); err != nil {
		t.Fatal(err)
	}

	// Sign-in: nothing but the form; a forged token stays there.
	run(ctx, t, "open the console", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.ID("token")))
	screenshot(ctx, t, dir, "signin")
	run(ctx, t, "forged token", chromedp.SendKeys(chromedp.ID("token"), "forged-token-0123456789abcdef"), chromedp.Click(chromedp.ID("signin-submit")))
	waitJS(ctx, t, "forged token refused", `document.getElementById('signin-error').textContent.includes('not valid')`)
	waitJS(ctx, t, "no data for a forged token", `!document.getElementById('experiments') && document.getElementById('nav').hidden`)

	run(ctx, t, "sign in", chromedp.SendKeys(chromedp.ID("token"), consoleAdminToken), chromedp.Click(chromedp.ID("signin-submit")))
	waitJS(ctx, t, "empty list", `!!document.getElementById('experiments-body') && document.getElementById('experiments-body').textContent.includes('No experiment yet')`)

	// Create: a sum of 0.9 is shown as typed, and the API's message names the field.
	run(ctx, t, "open the form", chromedp.Click(chromedp.ID("new-experiment")), chromedp.WaitVisible(chromedp.ID("f-cap")))
	run(ctx, t, "fill the form",
		chromedp.SendKeys(chromedp.ID("f-id"), seedID),
		chromedp.SetValue(chromedp.CSS(`#f-groups .group-row:nth-child(1) .g-name`), "old_journey"),
		chromedp.SetValue(chromedp.CSS(`#f-groups .group-row:nth-child(2) .g-name`), "new_journey"),
		chromedp.SetValue(chromedp.CSS(`#f-groups .group-row:nth-child(2) .g-p`), ""),
		chromedp.SendKeys(chromedp.CSS(`#f-groups .group-row:nth-child(2) .g-p`), "0.4"),
		chromedp.SetValue(chromedp.ID("f-sampling"), ""),
		chromedp.SendKeys(chromedp.ID("f-sampling"), "0.9"),
		chromedp.Click(chromedp.ID("f-add-rule")),
		chromedp.SendKeys(chromedp.CSS(`#f-rules .rule-row .r-claim`), "first_order"),
		chromedp.SendKeys(chromedp.CSS(`#f-rules .rule-row .r-value`), "true"),
		// The calculator proposes a cap for +20% on an 11% rate.
		chromedp.SendKeys(chromedp.ID("p-baseline"), "0.11"),
		chromedp.SendKeys(chromedp.ID("p-effect"), "0.2"),
	)
	waitJS(ctx, t, "sum shown as typed", `document.getElementById('f-sum').textContent.includes('0.9') && document.getElementById('f-sum').textContent.includes('must be 1')`)
	// The walk-through's plan: +20% on 11% needs 3,449 users per group. Waiting
	// for the final answer, not one of the keystrokes' (each recomputes).
	waitJS(ctx, t, "plan computed", `!!document.getElementById('p-use') && document.getElementById('p-use').textContent === 'Use 6,898 as the cap'`)
	click(ctx, t, "p-use")
	planned, err := chromedp.Run(ctx, chromedp.Value(chromedp.ID("f-cap")))
	if err != nil {
		t.Fatal(err)
	}
	if planned != "6898" {
		t.Fatalf("the calculator set the cap to %q", planned)
	}
	run(ctx, t, "the walk-through's cap", chromedp.SetValue(chromedp.ID("f-cap"), "3000"), chromedp.Click(chromedp.ID("f-submit")))
	waitJS(ctx, t, "the API's message at the field", `[...document.querySelectorAll('.field-error')].some(e => e.dataset.errorFor === 'groups' && e.textContent.startsWith('groups: '))`)
	screenshot(ctx, t, dir, "create-error")
	run(ctx, t, "fix the probabilities",
		chromedp.SetValue(chromedp.CSS(`#f-groups .group-row:nth-child(2) .g-p`), ""),
		chromedp.SendKeys(chromedp.CSS(`#f-groups .group-row:nth-child(2) .g-p`), "0.5"))
	waitJS(ctx, t, "sum is 1", `document.getElementById('f-sum').textContent.includes('✓')`)
	screenshot(ctx, t, dir, "create")
	run(ctx, t, "create", chromedp.Click(chromedp.ID("f-submit")))
	waitJS(ctx, t, "the experiment's page", `location.hash === '#/experiments/`+seedID+`' && document.getElementById('fill-total') && document.getElementById('fill-total').textContent === '0'`)

	// Enroll through the API: the fill moves without a reload.
	users := loadSampleUsers(t)
	orders, _ := enrollSample(t, base, users[:400])
	waitJS(ctx, t, "the fill moved", `Number(document.getElementById('fill-total').textContent.replace(/,/g, '')) > 0`)
	first := text(ctx, t, "#fill-total")

	// Pause and resume.
	click(ctx, t, "a-pause")
	waitJS(ctx, t, "paused", `document.querySelector('#exp-badges .badge').textContent === 'paused' && !!document.getElementById('a-resume')`)
	screenshot(ctx, t, dir, "paused")
	click(ctx, t, "a-resume")
	waitJS(ctx, t, "running", `document.querySelector('#exp-badges .badge').textContent === 'running' && !!document.getElementById('a-pause')`)

	more, answers := enrollSample(t, base, users[400:])
	orders = append(orders, more...)
	waitJS(ctx, t, "the fill moved on", `document.getElementById('fill-total').textContent !== '`+first+`'`)
	t.Logf("sample users: %v", answers)
	writeOrders(t, ordersCSV, orders)

	waitJS(ctx, t, "history of create, pause, resume", `document.querySelectorAll('#history-table tbody tr').length >= 3`)
	waitJS(ctx, t, "enrollments per day", `document.querySelectorAll('#daily svg rect').length >= 1`)
	screenshot(ctx, t, dir, "experiment")

	// The results of each metric of the metrics file, once the exporter has
	// written every member to the warehouse: a verdict for each (new_journey
	// usually wins, but each run draws its own split with a fresh salt, so
	// the test asks for a verdict, not for a winner).
	waitJS(ctx, t, "every member in the warehouse", `[...document.querySelectorAll('#daily svg rect')].reduce((a, r) => a + Number(r.querySelector('title').textContent.split(': ')[1]), 0) === 3000`)
	deadline := time.Now().Add(20 * time.Second)
	for {
		click(ctx, t, "results-refresh")
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { const v = document.querySelector('#results-body [data-metric="ordered"] .verdict'); return !!v && v.textContent.includes('new_journey') && !!document.getElementById('srm') && document.querySelectorAll('#results-body svg.ci line.ci-line').length >= 2 })()`))
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no verdict in the results: %s", text(ctx, t, "#results"))
		}
		time.Sleep(time.Second)
	}
	t.Logf("results: %s", text(ctx, t, "#results-body"))
	run(ctx, t, "scroll to the results", chromedp.ScrollIntoView(chromedp.ID("results")))
	screenshot(ctx, t, dir, "results")

	// Roll out the winner: the confirmation says what it does and that it can be undone.
	run(ctx, t, "choose the winner", chromedp.Func(func(c context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool](`(document.getElementById('a-winner').value = 'new_journey', true)`)(c, tg)
		return err
	}))
	click(ctx, t, "a-rollout")
	waitJS(ctx, t, "confirmation", `document.getElementById('confirm').open && document.getElementById('confirm-text').textContent.includes('new_journey') && document.getElementById('confirm-undo').textContent.includes('undo')`)
	screenshot(ctx, t, dir, "rollout-confirm")
	click(ctx, t, "confirm-ok")
	waitJS(ctx, t, "rolled out", `!!document.getElementById('winner-badge') && document.getElementById('winner-badge').textContent.includes('new_journey') && !!document.getElementById('a-undo-rollout')`)
	waitJS(ctx, t, "the rollout in the history", `document.getElementById('history-table').textContent.includes('rolled out new_journey')`)
	screenshot(ctx, t, dir, "rolled-out")

	// The list: fill bar and members per group.
	click(ctx, t, "nav-list")
	waitJS(ctx, t, "listed", `!!document.querySelector('#experiments-body tr[data-id="`+seedID+`"] .meter')`)
	screenshot(ctx, t, dir, "list")

	// The embedded demo mode's button: a second experiment filled by the
	// sample users without a terminal.
	const demoID = "shipping-address-demo"
	if code, body := post(t, base+"/api/experiment-create", consoleAdminToken, `{"experiment_id":"`+demoID+`","maximum_sample_size":500,"sampling_probability":1,
		"groups":[{"group_name":"old_journey","probability_of_falling_in":0.5},{"group_name":"new_journey","probability_of_falling_in":0.5}]}`); code != 201 {
		t.Fatalf("create %s: %d %s", demoID, code, body)
	}
	run(ctx, t, "demo experiment", chromedp.Navigate(base+"/#/experiments/"+demoID))
	waitJS(ctx, t, "the demo button", `!!document.getElementById('a-sample-users')`)
	click(ctx, t, "a-sample-users")
	waitJS(ctx, t, "the sample users sent", `(document.getElementById('demo-result') || {}).textContent.includes('4,000 sample users reached the screen: 500 enrolled')`)
	waitJS(ctx, t, "the demo fill", `(document.getElementById('fill-total') || {}).textContent === '500'`)
	screenshot(ctx, t, dir, "sample-users")

	// A phone-sized screen.
	run(ctx, t, "phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		chromedp.Navigate("about:blank"), chromedp.Navigate(base+"/#/experiments/"+seedID))
	// The reload signed out: the token lived in the page's memory only.
	run(ctx, t, "signed out by the reload", chromedp.WaitVisible(chromedp.ID("token")))
	run(ctx, t, "sign in on the phone", chromedp.SendKeys(chromedp.ID("token"), consoleAdminToken), chromedp.Click(chromedp.ID("signin-submit")))
	waitJS(ctx, t, "phone page", `!!document.getElementById('fill-total') && document.querySelectorAll('#history-table tbody tr').length >= 4`)
	screenshot(ctx, t, dir, "phone")

	// The token is nowhere but in the page's memory.
	leaks, err := chromedp.Run(ctx, chromedp.Evaluate[string](`[localStorage.length, sessionStorage.length, document.cookie, document.documentElement.outerHTML.includes(`+jsString(consoleAdminToken)+`) ? 'in the DOM' : '', location.href.includes(`+jsString(consoleAdminToken)+`) ? 'in the URL' : ''].join('|')`))
	if err != nil {
		t.Fatal(err)
	}
	if leaks != "0|0|||" {
		t.Fatalf("storage/cookie/DOM = %q, want empty", leaks)
	}
	netMu.Lock()
	seen := append([]string(nil), urls...)
	netMu.Unlock()
	time.Sleep(500 * time.Millisecond) // the last bodies
	close(finished)
	<-checked
	if overflow {
		t.Fatal("more responses than the checker could hold")
	}
	if len(leaked) > 0 {
		t.Fatalf("response bodies carry the admin token: %q", leaked)
	}
	if bodies < 20 {
		t.Fatalf("only %d response bodies checked", bodies)
	}
	for _, u := range seen {
		if strings.Contains(u, consoleAdminToken) {
			t.Fatalf("a URL carries the admin token: %s", u)
		}
	}
	if strings.Contains(logs.String(), consoleAdminToken) {
		t.Fatal("assignd's log carries the admin token")
	}
	t.Logf("screenshots in %s; %d response bodies and %d URLs checked for the token", dir, bodies, len(seen))
}

func jsString(s string) string { b, _ := json.Marshal(s); return string(b) }

// TestConsole_Pages checks the console's page and files without a browser:
// the security headers, no token or data in any of them, -console=false.
func TestConsole_Pages(t *testing.T) {
	m, _ := consoleServer(t, nil)
	base := m.Server.URL()
	get := func(path string) (*http.Response, string) {
		resp, err := httpClient.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, page := get("/")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET / = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "form-action 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe") {
		t.Errorf("CSP %q allows unsafe sources", csp)
	}
	for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if strings.Contains(page, "<script>") || strings.Contains(page, "style=") || strings.Contains(page, "<style") {
		t.Error("the page has inline script or style")
	}
	for _, asset := range []string{"/console/app.js", "/console/app.css", "/console/icon.svg"} {
		if !strings.Contains(page, asset+"?v=") {
			t.Errorf("the page does not load %s by version", asset)
		}
		resp, body := get(asset)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Security-Policy") == "" || resp.Header.Get("ETag") == "" {
			t.Errorf("GET %s = %d, CSP %q, ETag %q", asset, resp.StatusCode, resp.Header.Get("Content-Security-Policy"), resp.Header.Get("ETag"))
		}
		for _, bad := range []string{consoleAdminToken, "localStorage.set", "sessionStorage.set", "document.cookie =", "innerHTML", "eval("} {
			if strings.Contains(body, bad) {
				t.Errorf("%s contains %q", asset, bad)
			}
		}
	}
	if resp, _ := get("/console/nope.js"); resp.StatusCode != 404 {
		t.Errorf("GET /console/nope.js = %d, want 404", resp.StatusCode)
	}
	req, _ := http.NewRequest("POST", base+"/", nil)
	if resp, err := httpClient.Do(req); err != nil || resp.StatusCode != 405 {
		t.Errorf("POST / = %v %v, want 405", resp, err)
	}

	off, _ := consoleServer(t, func(c *Config) { c.Console = false })
	resp, err := httpClient.Get(off.Server.URL() + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Fatalf("-console=false: GET / = %d, want 404", resp.StatusCode)
	}
}

// TestConsole_WarehouseRoutes reads the console's warehouse routes of a whole
// assignd whose exporter writes the warehouse in the same process: the
// change history, the enrollments per day and the results of a metrics file,
// read over the read-only results connection, from the default DuckDB file
// (shared with the exporter) and from PostgreSQL (-results-warehouse-url).
func TestConsole_WarehouseRoutes(t *testing.T) {
	t.Run("DuckDB", func(t *testing.T) { testWarehouseRoutes(t, "", "") })
	t.Run("PostgreSQL", func(t *testing.T) {
		url := testenv.PostgresURL(t)
		schema := fmt.Sprintf("assignd_console_%d", time.Now().UnixNano())
		t.Cleanup(func() {
			if conn, err := pgx.Connect(context.Background(), url); err == nil {
				_, _ = conn.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
				conn.Close(context.Background())
			}
		})
		testWarehouseRoutes(t, url+"&schema="+schema, url+"&schema="+schema)
	})
	t.Run("PostgreSQLSelectOnly", func(t *testing.T) {
		// Production's setup: the console reads as a role that may only
		// SELECT the warehouse tables the exporter creates.
		url := testenv.PostgresURL(t)
		ctx := context.Background()
		suffix := time.Now().UnixNano()
		schema, reader := fmt.Sprintf("assignd_console_ro_%d", suffix), fmt.Sprintf("console_reader_%d", suffix)
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		t.Cleanup(func() {
			_, _ = conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
			_, _ = conn.Exec(ctx, "DROP ROLE IF EXISTS "+reader)
		})
		for _, q := range []string{
			"CREATE ROLE " + reader + " LOGIN",
			"CREATE SCHEMA " + schema,
			"GRANT USAGE ON SCHEMA " + schema + " TO " + reader,
			"ALTER DEFAULT PRIVILEGES IN SCHEMA " + schema + " GRANT SELECT ON TABLES TO " + reader,
		} {
			if _, err := conn.Exec(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		u, err := neturl.Parse(url)
		if err != nil {
			t.Fatal(err)
		}
		u.User = neturl.User(reader)
		readerURL := u.String() + "&schema=" + schema
		testWarehouseRoutes(t, url+"&schema="+schema, readerURL)

		// And the role cannot change the warehouse.
		rc, err := pgx.Connect(ctx, u.String())
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close(ctx)
		if _, err := rc.Exec(ctx, "DELETE FROM "+schema+".enrollments"); err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Fatalf("the reader deleted enrollments: %v", err)
		}
	})
}

func testWarehouseRoutes(t *testing.T, warehouseURL, resultsURL string) {
	metrics := filepath.Join(t.TempDir(), "metrics.yaml")
	sql := "SELECT user_id, now() AS at, 1 AS converted FROM enrollments WHERE user_id LIKE 'buyer-%'"
	if err := os.WriteFile(metrics, []byte("correction: none\nmetrics:\n  - name: bought\n    type: binary\n    role: goal\n    direction: higher\n    sql: \""+sql+"\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	m, logs := consoleServer(t, func(c *Config) {
		if warehouseURL != "" {
			c.WarehouseURL = warehouseURL
		}
		c.ResultsWarehouseURL = resultsURL
		c.MetricsFile = metrics
	})
	base := m.Server.URL()
	get := func(path, token string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest("GET", base+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := httpClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
			t.Fatalf("GET %s: %d, not JSON: %v", path, resp.StatusCode, err)
		}
		return resp.StatusCode, v
	}
	const id = "console-wh"
	if code, body := post(t, base+"/api/experiment-create", consoleAdminToken, `{"experiment_id":"`+id+`","maximum_sample_size":100,
		"groups":[{"group_name":"a","probability_of_falling_in":0.5},{"group_name":"b","probability_of_falling_in":0.5}],
		"overrides":{"qa-user":"b"}}`); code != 201 {
		t.Fatalf("create: %d %s", code, body)
	}
	// A QA override's answer reaches the warehouse flagged: no member, so
	// the days below count 40, not 41.
	qa, _ := auth.SignHS256([]byte(testJWTSecret), "qa-user", time.Hour, nil)
	if code, body := post(t, base+"/api/experiment-enrollments", qa, `{"experiment_id":"`+id+`"}`); code != 200 || !strings.Contains(body, `"override":true`) {
		t.Fatalf("override: %d %s", code, body)
	}
	// Results before anything reached the warehouse: 404, not an error.
	if code, v := get("/api/experiments/"+id+"/results", consoleAdminToken); code != 404 && code != 200 {
		t.Fatalf("early results: %d %v", code, v)
	}
	for i := 0; i < 40; i++ {
		sub := fmt.Sprintf("user-%02d", i)
		if i%2 == 0 {
			sub = fmt.Sprintf("buyer-%02d", i)
		}
		token, _ := auth.SignHS256([]byte(testJWTSecret), sub, time.Hour, nil)
		if code, body := post(t, base+"/api/experiment-enrollments", token, `{"experiment_id":"`+id+`"}`); code != 200 {
			t.Fatalf("enroll: %d %s", code, body)
		}
	}
	req, _ := http.NewRequest("PATCH", base+"/api/experiments/"+id, strings.NewReader(`{"maximum_sample_size":200}`))
	req.Header.Set("Authorization", "Bearer "+consoleAdminToken)
	req.Header.Set("Content-Type", "application/json")
	if resp, err := httpClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("patch: %v %v", resp, err)
	}

	deadline := time.Now().Add(15 * time.Second)
	for {
		_, ch := get("/api/experiments/"+id+"/changes", consoleAdminToken)
		_, days := get("/api/experiments/"+id+"/daily-enrollments", consoleAdminToken)
		changes, _ := ch["changes"].([]any)
		d, _ := days["days"].([]any)
		if len(changes) == 2 && len(d) == 1 && d[0].(map[string]any)["enrolled"] == float64(40) {
			c := changes[1].(map[string]any)
			if c["changed_by"] != "product-owner" || fmt.Sprint(c["what"]) != "[cap 100 → 200]" {
				t.Fatalf("change 2 = %v", c)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the warehouse routes did not catch up: changes %v, days %v", ch, days)
		}
		time.Sleep(100 * time.Millisecond)
	}
	code, res := get("/api/experiments/"+id+"/results", consoleAdminToken)
	if code != 200 {
		t.Fatalf("results: %d %v", code, res)
	}
	metric := res["metrics"].([]any)[0].(map[string]any)
	if metric["error"] != nil {
		t.Fatalf("metric error: %v", metric["error"])
	}
	var n, conv float64
	for _, g := range metric["groups"].([]any) {
		n += g.(map[string]any)["n"].(float64)
		conv += g.(map[string]any)["conversions"].(float64)
	}
	if n != 40 || conv != 20 {
		t.Fatalf("results: %v users, %v conversions; want 40 and 20: %v", n, conv, metric)
	}
	for _, path := range []string{"/changes", "/daily-enrollments", "/results"} {
		if code, _ := get("/api/experiments/"+id+path, "forged-token-0123456789abcdef"); code != 401 {
			t.Fatalf("%s with a forged token: %d", path, code)
		}
	}
	// The exporter kept exporting while the console read the same file.
	if strings.Contains(logs.String(), `"level":"ERROR"`) {
		t.Fatalf("errors in the log:\n%s", logs.String())
	}
}

// TestConsole_BadMetricsFile: assignd refuses to start on a metrics file it
// cannot read, rather than serve a results page that always fails.
func TestConsole_BadMetricsFile(t *testing.T) {
	for name, content := range map[string]string{"Missing": "", "Invalid": "metrics:\n  - name: x\n    type: colour\n"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "metrics.yaml")
			if content != "" {
				if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			m := NewMain()
			m.Config.Addr = "127.0.0.1:0"
			m.Config.Exporter = false
			m.Config.MetricsFile = path
			m.Stdout = io.Discard
			m.Logger = discardLogger()
			err := m.Run(context.Background())
			m.Close()
			if err == nil || !strings.Contains(err.Error(), "metrics-file") {
				t.Fatalf("Run = %v, want a metrics-file error", err)
			}
		})
	}
}
