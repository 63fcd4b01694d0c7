package pattern

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// Deterministic benchmark corpora: (a) wims CDC change events padded to about
// 1 KB and (b) a nested, array-heavy order shape. Rule sets of 1, 10, 100 and
// 1000 mixed-operator rules vary their values with the rule index, so large
// sets look like many distinct subscriptions rather than copies.

var (
	statuses   = []string{"pending", "paid", "shipped", "delivered", "cancelled", "refunded"}
	regions    = []string{"eu-west-1", "eu-central-1", "us-east-1", "us-west-2", "ap-south-1"}
	domains    = []string{"example.com", "shop.test", "mail.example.org", "corp.local", "buyer.net"}
	eventTypes = []string{"INSERT", "UPDATE", "REMOVE"}
	tags       = []string{"sale", "new", "fragile", "bulk", "gift", "eco", "import"}
)

func uuidish(r *rand.Rand) string {
	return fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x", r.Uint32(), r.Uint32()&0xffff, r.Uint32()&0xfff, r.Uint32()&0xfff, r.Uint64()&0xffffffffffff)
}

func cdcEvent(r *rand.Rand) []byte {
	table := "orders"
	if r.IntN(3) == 0 {
		table = "inventory"
	}
	et := eventTypes[r.IntN(3)]
	var img string
	if table == "orders" {
		img = fmt.Sprintf(`{"orderId":"O-%06d","customerId":"C-%04d","email":"user%d@%s","status":"%s","total":%d.%02d,"currency":"EUR","region":"%s","clientIp":"10.%d.%d.%d","sku":"SKU-%d-%c","createdAt":"2026-11-25T10:%02d:%02dZ","note":"%s"}`,
			r.IntN(1000000), r.IntN(2000), r.IntN(10000), domains[r.IntN(len(domains))], statuses[r.IntN(len(statuses))],
			r.IntN(1000), r.IntN(100), regions[r.IntN(len(regions))], r.IntN(8), r.IntN(256), r.IntN(256),
			r.IntN(5000), 'A'+r.IntN(4), r.IntN(60), r.IntN(60), strings.Repeat("x", 20+r.IntN(40)))
	} else {
		img = fmt.Sprintf(`{"sku":"SKU-%d-%c","quantity":%d,"warehouse":"WH-%02d","price":%d.%02d,"status":"%s","supplier":"SUP-%03d","updatedAt":"2026-11-25T10:%02d:%02dZ","description":"%s"}`,
			r.IntN(5000), 'A'+r.IntN(4), r.IntN(500), r.IntN(20), r.IntN(200), r.IntN(100), statuses[r.IntN(3)],
			r.IntN(300), r.IntN(60), r.IntN(60), strings.Repeat("y", 40+r.IntN(60)))
	}
	old := `{}`
	if et != "INSERT" {
		old = strings.Replace(img, `"status":"`, `"status":"old-`, 1)
	}
	ev := fmt.Sprintf(`{"version":"0","id":"%s","detail-type":"cdcEvent","source":"wims.cdc","account":"000000000000","time":"2026-11-25T10:00:00Z","region":"local","resources":[],"detail":{"meta":{"idempotencyId":"%s","origin":"sqlite","traceparent":"00-%032x-%016x-01"},"data":{"table":"%s","eventType":"%s","key":{"id":"K-%06d"},"changedColumns":["status","total","updatedAt"],"NewImage":%s,"OldImage":%s}}}`,
		uuidish(r), uuidish(r), r.Uint64(), r.Uint64(), table, et, r.IntN(1000000), img, old)
	return []byte(ev)
}

func nestedEvent(r *rand.Rand) []byte {
	var lines []string
	for i := 0; i < 2+r.IntN(3); i++ {
		lines = append(lines, fmt.Sprintf(`{"sku":"SKU-%d-%c","qty":%d,"price":%d.%02d,"tags":["%s","%s"]}`,
			r.IntN(5000), 'A'+r.IntN(4), 1+r.IntN(20), r.IntN(300), r.IntN(100), tags[r.IntN(len(tags))], tags[r.IntN(len(tags))]))
	}
	ev := fmt.Sprintf(`{"version":"0","id":"%s","detail-type":"OrderPlaced","source":"wims.orders","account":"000000000000","time":"2026-11-25T10:00:00Z","region":"%s","resources":["arn:aws:wims:local:000000000000:order/O-%06d"],"detail":{"order":{"orderId":"O-%06d","customer":{"id":"C-%04d","email":"user%d@%s","tier":"%s"},"lines":[%s],"shipping":{"address":{"street":"%d Main St","city":"City%d","country":"%s","zip":"%05d"},"method":"%s"},"payment":{"method":"card","amount":%d.%02d,"currency":"EUR"},"client":{"ip":"10.%d.%d.%d","userAgent":"Mozilla/5.0 (X11; Linux x86_64)"},"status":"%s"}}}`,
		uuidish(r), regions[r.IntN(len(regions))], r.IntN(1000000), r.IntN(1000000), r.IntN(2000), r.IntN(10000), domains[r.IntN(len(domains))],
		[]string{"gold", "silver", "bronze"}[r.IntN(3)], strings.Join(lines, ","), r.IntN(999), r.IntN(100),
		[]string{"DE", "FR", "NL", "US", "IT"}[r.IntN(5)], r.IntN(99999), []string{"standard", "express"}[r.IntN(2)],
		r.IntN(2000), r.IntN(100), r.IntN(8), r.IntN(256), r.IntN(256), statuses[r.IntN(len(statuses))])
	return []byte(ev)
}

// cdcRule returns the i-th rule of the CDC rule family.
func cdcRule(i int) string {
	r := rand.New(rand.NewPCG(uint64(i), 7))
	switch i % 10 {
	case 0:
		return fmt.Sprintf(`{"detail":{"data":{"table":["orders"],"eventType":["%s"],"NewImage":{"customerId":["C-%04d","C-%04d"]}}}}`, eventTypes[r.IntN(3)], r.IntN(2000), r.IntN(2000))
	case 1:
		return fmt.Sprintf(`{"detail":{"data":{"NewImage":{"customerId":[{"prefix":"C-%03d"}]}}}}`, r.IntN(200))
	case 2:
		return fmt.Sprintf(`{"detail":{"data":{"NewImage":{"email":[{"suffix":"%d@%s"}]}}}}`, r.IntN(100), domains[r.IntN(len(domains))])
	case 3:
		return fmt.Sprintf(`{"detail":{"data":{"NewImage":{"orderId":[{"equals-ignore-case":"o-%06d"}],"status":[{"equals-ignore-case":"%s"}]}}}}`, r.IntN(1000000), strings.ToUpper(statuses[r.IntN(6)]))
	case 4:
		return fmt.Sprintf(`{"detail":{"data":{"NewImage":{"sku":[{"wildcard":"SKU-%d*-%c"}]}}}}`, r.IntN(500), 'A'+r.IntN(4))
	case 5:
		return fmt.Sprintf(`{"detail":{"data":{"table":["orders"],"NewImage":{"customerId":["C-%04d"],"status":[{"anything-but":["cancelled","refunded"]}]}}}}`, r.IntN(2000))
	case 6:
		lo := r.IntN(400)
		return fmt.Sprintf(`{"detail":{"data":{"table":["inventory"],"NewImage":{"warehouse":["WH-%02d"],"quantity":[{"numeric":[">=",%d,"<",%d]}]}}}}`, r.IntN(20), lo, lo+50+r.IntN(100))
	case 7:
		return fmt.Sprintf(`{"detail":{"meta":{"traceparent":[{"exists":true}]},"data":{"NewImage":{"supplier":["SUP-%03d"]},"OldImage":{"supplier":[{"exists":false}]}}}}`, r.IntN(300))
	case 8:
		return fmt.Sprintf(`{"detail":{"data":{"NewImage":{"clientIp":[{"cidr":"10.%d.%d.0/24"}],"region":["%s"]}}}}`, r.IntN(8), r.IntN(256), regions[r.IntN(len(regions))])
	default:
		return fmt.Sprintf(`{"detail":{"data":{"NewImage":{"sku":["SKU-%d-A","SKU-%d-B"]},"$or":[{"eventType":["REMOVE"]},{"NewImage":{"quantity":[{"numeric":["<",%d]}]}}]}}}`, r.IntN(5000), r.IntN(5000), 10+r.IntN(50))
	}
}

func nestedRule(i int) string {
	r := rand.New(rand.NewPCG(uint64(i), 11))
	switch i % 10 {
	case 0:
		return fmt.Sprintf(`{"source":["wims.orders"],"detail":{"order":{"customer":{"id":["C-%04d"]}}}}`, r.IntN(2000))
	case 1:
		return fmt.Sprintf(`{"detail":{"order":{"lines":{"sku":[{"prefix":"SKU-%d"}],"tags":["%s"]}}}}`, r.IntN(500), tags[r.IntN(len(tags))])
	case 2:
		return fmt.Sprintf(`{"detail":{"order":{"customer":{"email":[{"suffix":"%d@%s"}]}}}}`, r.IntN(100), domains[r.IntN(len(domains))])
	case 3:
		return fmt.Sprintf(`{"detail":{"order":{"shipping":{"address":{"city":[{"equals-ignore-case":"CITY%d"}]}}}}}`, r.IntN(100))
	case 4:
		return fmt.Sprintf(`{"resources":[{"wildcard":"arn:aws:wims:*:order/O-%03d*"}]}`, r.IntN(1000))
	case 5:
		return fmt.Sprintf(`{"detail":{"order":{"orderId":["O-%06d"],"status":[{"anything-but":{"prefix":"cancel"}}]}}}`, r.IntN(1000000))
	case 6:
		return fmt.Sprintf(`{"detail":{"order":{"lines":{"sku":["SKU-%d-%c"],"qty":[{"numeric":[">",%d,"<=",%d]}]}}}}`, r.IntN(5000), 'A'+r.IntN(4), r.IntN(5), 5+r.IntN(15))
	case 7:
		return fmt.Sprintf(`{"detail":{"order":{"customer":{"id":["C-%04d"]},"coupon":[{"exists":false}]}}}`, r.IntN(2000))
	case 8:
		return fmt.Sprintf(`{"detail":{"order":{"client":{"ip":[{"cidr":"10.%d.%d.0/24"}]},"shipping":{"address":{"country":["%s"]}}}}}`, r.IntN(8), r.IntN(256), []string{"DE", "FR", "NL", "US", "IT"}[r.IntN(5)])
	default:
		return fmt.Sprintf(`{"detail":{"order":{"shipping":{"address":{"zip":["%05d"]}},"$or":[{"payment":{"amount":[{"numeric":[">",%d]}]}},{"customer":{"tier":["gold"]}}]}}}`, r.IntN(99999), 100+r.IntN(1000))
	}
}

func corpus(gen func(*rand.Rand) []byte, n int) [][]byte {
	r := rand.New(rand.NewPCG(1, 2))
	out := make([][]byte, n)
	for i := range out {
		out[i] = gen(r)
	}
	return out
}

func buildMatcher(tb testing.TB, rule func(int) string, n int) *Matcher {
	m := NewMatcher()
	for i := 0; i < n; i++ {
		if err := m.AddPattern(fmt.Sprintf("rule-%04d", i), []byte(rule(i))); err != nil {
			tb.Fatalf("rule %d %s: %v", i, rule(i), err)
		}
	}
	return m
}

func BenchmarkMatcher(b *testing.B) {
	shapes := []struct {
		name   string
		events [][]byte
		rule   func(int) string
	}{
		{"cdc", corpus(cdcEvent, 512), cdcRule},
		{"nested", corpus(nestedEvent, 512), nestedRule},
	}
	for _, sh := range shapes {
		size := 0
		for _, e := range sh.events {
			size += len(e)
		}
		for _, n := range []int{1, 10, 100, 1000} {
			b.Run(fmt.Sprintf("%s/rules=%d", sh.name, n), func(b *testing.B) {
				m := buildMatcher(b, sh.rule, n)
				buf := make([]string, 0, 64)
				buf, _ = m.AppendMatches(buf, sh.events[0]) // build the machine outside the timer
				b.SetBytes(int64(size / len(sh.events)))
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					var err error
					buf, err = m.AppendMatches(buf[:0], sh.events[i%len(sh.events)])
					if err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
			})
		}
	}
}

func BenchmarkCompile(b *testing.B) {
	srcs := make([][]byte, 100)
	for i := range srcs {
		srcs[i] = []byte(cdcRule(i))
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Compile(srcs[i%len(srcs)]); err != nil {
			b.Fatal(err)
		}
	}
}

// TestBenchmarkCorpus keeps the generators honest: events are valid, about
// 1 KB, and rule sets actually match some events, and the fast matcher
// agrees with the reference evaluator on them.
func TestBenchmarkCorpus(t *testing.T) {
	for _, sh := range []struct {
		events [][]byte
		rule   func(int) string
	}{{corpus(cdcEvent, 200), cdcRule}, {corpus(nestedEvent, 200), nestedRule}} {
		total, hits := 0, 0
		m := buildMatcher(t, sh.rule, 300)
		for _, ev := range sh.events {
			if err := ValidateEvent(ev); err != nil {
				t.Fatalf("%v: %s", err, ev)
			}
			total += len(ev)
			got, _ := m.Match(ev)
			hits += len(got)
		}
		if avg := total / len(sh.events); avg < 700 || avg > 1400 {
			t.Errorf("average event size %d, want about 1 KB", avg)
		}
		if hits == 0 {
			t.Error("rule set never matches")
		}
		for i := 0; i < 30; i++ {
			p := MustCompile(sh.rule(i))
			for _, ev := range sh.events[:60] {
				got, _ := p.Match(ev)
				want, _ := refEval([]byte(sh.rule(i)), ev)
				if got != want {
					t.Fatalf("rule %s event %s: fast %v ref %v", sh.rule(i), ev, got, want)
				}
			}
		}
		t.Logf("avg size %d, matches over %d events with 300 rules: %d", total/len(sh.events), len(sh.events), hits)
	}
}

// TestMatcherAgreesOnCorpus: with hundreds of rules sharing anchors, the
// Matcher reports exactly the rules whose own Match is true.
func TestMatcherAgreesOnCorpus(t *testing.T) {
	for _, sh := range []struct {
		events [][]byte
		rule   func(int) string
	}{{corpus(cdcEvent, 150), cdcRule}, {corpus(nestedEvent, 150), nestedRule}} {
		const n = 400
		m := buildMatcher(t, sh.rule, n)
		pats := make([]*Pattern, n)
		for i := range pats {
			pats[i] = MustCompile(sh.rule(i))
		}
		for _, ev := range sh.events {
			var want []string
			for i, p := range pats {
				if ok, _ := p.Match(ev); ok {
					want = append(want, fmt.Sprintf("rule-%04d", i))
				}
			}
			got, err := m.Match(ev)
			if err != nil || strings.Join(got, ",") != strings.Join(want, ",") {
				t.Fatalf("Matcher %v, individual %v, event %s", got, want, ev)
			}
		}
	}
}
