package schema

import "testing"

func BenchmarkFingerprint(b *testing.B) {
	doc := []byte(orderEvent)
	b.ReportAllocs()
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if _, ok := Fingerprint(doc); !ok {
			b.Fatal("not ok")
		}
	}
}

// BenchmarkInferMerge measures the slow path a discoverer takes for an
// event whose fingerprint it has not seen: infer, merge into the stored
// shape, compare.
func BenchmarkInferMerge(b *testing.B) {
	doc := []byte(orderEvent)
	stored := mustInfer(b, orderEvent)
	b.ReportAllocs()
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		s, err := Infer(doc)
		if err != nil {
			b.Fatal(err)
		}
		if !Equal(Merge(stored, s), stored) {
			b.Fatal("shape changed")
		}
	}
}

func BenchmarkValidate(b *testing.B) {
	out, err := OpenAPI("wims.orders", "Order Created", mustInfer(b, orderEvent))
	if err != nil {
		b.Fatal(err)
	}
	v, err := Compile(TypeOpenAPI3, out)
	if err != nil {
		b.Fatal(err)
	}
	doc := []byte(orderEvent)
	b.ReportAllocs()
	for b.Loop() {
		if err := v.Validate(doc); err != nil {
			b.Fatal(err)
		}
	}
}
