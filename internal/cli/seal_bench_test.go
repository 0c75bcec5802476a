package cli_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cruisegitops/cruise/internal/seal"
)

// BenchmarkSealOneSecret runs the real cruise binary as a user would:
// `cruise seal --recipient FILE -f secret.yaml` on a Secret of 5 keys,
// process start to exit. ns/op is the wall time of one run;
// peak-RSS-MiB is the process's high-water mark.
func BenchmarkSealOneSecret(b *testing.B) {
	bin := cruiseBinary(b)
	dir := b.TempDir()
	k, err := seal.GenerateKey(time.Now())
	if err != nil {
		b.Fatal(err)
	}
	pub := filepath.Join(dir, "cluster.pub")
	in := filepath.Join(dir, "secret.yaml")
	if err := os.WriteFile(pub, []byte(k.Recipient().String()+"\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	secret := "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: prod\ntype: Opaque\nstringData:\n" +
		"  host: db.prod.svc\n  port: \"5432\"\n  user: app\n  password: correct-horse-battery-staple\n  url: postgres://app@db.prod.svc:5432/app\n"
	if err := os.WriteFile(in, []byte(secret), 0o600); err != nil {
		b.Fatal(err)
	}
	var peak int64
	for b.Loop() {
		peak = max(peak, runMeasured(b, bin, 0, "seal", "--recipient", pub, "-f", in))
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MiB")
}
