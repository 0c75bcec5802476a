package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cruisegitops/cruise/oauth/store"
)

var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func TestParseDSN(t *testing.T) {
	for _, tc := range []struct {
		dsn     string
		dialect Dialect
		wantErr bool
	}{
		{"postgres://u@h/db", Postgres, false},
		{"postgresql://u@h/db", Postgres, false},
		{"sqlite:/tmp/a.db", SQLite, false},
		{"/tmp/a.db", SQLite, false},
		{"", "", true},
		{"sqlite:", "", true},
	} {
		d, _, _, err := parseDSN(tc.dsn)
		if (err != nil) != tc.wantErr || d != tc.dialect {
			t.Errorf("parseDSN(%q) = %q, %v; want %q, error %v", tc.dsn, d, err, tc.dialect, tc.wantErr)
		}
	}
}

func TestMigrationsAreIdempotent(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		if err := s.migrate(ctx); err != nil {
			t.Fatalf("second migrate: %v", err)
		}
		var n int
		if err := s.queryRow(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil || n != len(migrations) {
			t.Fatalf("schema_migrations has %d rows (%v), want %d", n, err, len(migrations))
		}
	})
}

func TestClientsRoundTrip(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		c := store.Client{ID: "c1", Name: "CLI", Public: true, RedirectURIs: []string{"http://127.0.0.1/cb"},
			GrantTypes: []string{store.GrantAuthorizationCode}, CreatedAt: t0}
		if err := s.CreateClient(ctx, c); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateClient(ctx, c); !errors.Is(err, store.ErrExists) {
			t.Fatalf("duplicate create: got %v, want ErrExists", err)
		}
		got, err := s.GetClient(ctx, "c1")
		if err != nil || got.Name != "CLI" || !got.Public || !slices.Equal(got.RedirectURIs, c.RedirectURIs) || !got.CreatedAt.Equal(t0) {
			t.Fatalf("GetClient = %+v, %v", got, err)
		}
		if err := s.DeleteClient(ctx, "c1"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetClient(ctx, "c1"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("after delete: %v", err)
		}
		if err := s.DeleteClient(ctx, "c1"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("second delete: %v", err)
		}
	})
}

// TestConsumeCodeOnce races several redeemers of one code: exactly one wins
// on every backend.
func TestConsumeCodeOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		if err := s.CreateCode(ctx, store.AuthCode{Hash: "h", ClientID: "c", FamilyID: "f", Scopes: []string{"openid"},
			CreatedAt: t0, ExpiresAt: t0.Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
		const n = 8
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() { errs[i] = s.ConsumeCode(ctx, "h", t0) })
		}
		wg.Wait()
		wins := 0
		for _, err := range errs {
			switch {
			case err == nil:
				wins++
			case !errors.Is(err, store.ErrAlreadyUsed):
				t.Errorf("unexpected error %v", err)
			}
		}
		if wins != 1 {
			t.Fatalf("%d redeemers won, want exactly 1", wins)
		}
		c, err := s.GetCode(ctx, "h")
		if err != nil || c.UsedAt.IsZero() || !slices.Equal(c.Scopes, []string{"openid"}) {
			t.Fatalf("GetCode = %+v, %v", c, err)
		}
	})
}

func TestRefreshRotationAndReplay(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		fam := store.Family{ID: "fam", ClientID: "c", UserID: "u", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
		if err := s.CreateFamily(ctx, fam, &store.RefreshToken{Hash: "A", FamilyID: "fam", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if err := s.RotateRefreshToken(ctx, "A", store.RefreshToken{Hash: "B", FamilyID: "fam", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}, t0); err != nil {
			t.Fatalf("rotate A->B: %v", err)
		}
		if _, f, err := s.GetRefreshToken(ctx, "B"); err != nil || f.Revoked() {
			t.Fatalf("B before replay: revoked=%v err=%v", f.Revoked(), err)
		}
		err := s.RotateRefreshToken(ctx, "A", store.RefreshToken{Hash: "C", FamilyID: "fam", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}, t0)
		if !errors.Is(err, store.ErrAlreadyUsed) {
			t.Fatalf("replay of A: got %v, want ErrAlreadyUsed", err)
		}
		if _, f, err := s.GetRefreshToken(ctx, "B"); err != nil || !f.Revoked() {
			t.Fatalf("B after replay of A: revoked=%v err=%v; want family revoked", f.Revoked(), err)
		}
		if _, _, err := s.GetRefreshToken(ctx, "C"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("C stored despite replay: %v", err)
		}
	})
}

func TestRecordJTIOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		exp := time.Now().Add(time.Minute)
		if err := s.RecordJTI(ctx, "dpop:1", exp); err != nil {
			t.Fatal(err)
		}
		if err := s.RecordJTI(ctx, "dpop:1", exp); !errors.Is(err, store.ErrAlreadyUsed) {
			t.Fatalf("second record: %v", err)
		}
		if err := s.RecordJTI(ctx, "old", time.Now().Add(-time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := s.RecordJTI(ctx, "old", exp); err != nil {
			t.Fatalf("expired record not taken over: %v", err)
		}
		if ok, err := s.HasJTI(ctx, "dpop:1"); !ok || err != nil {
			t.Fatalf("HasJTI = %v, %v", ok, err)
		}
	})
}

func TestPendingTakeOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		if err := s.PutPending(ctx, "k", []byte(`{"a":1}`), t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if v, err := s.GetPending(ctx, "k", t0); err != nil || string(v) != `{"a":1}` {
			t.Fatalf("GetPending = %q, %v", v, err)
		}
		if _, err := s.GetPending(ctx, "k", t0.Add(2*time.Minute)); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("expired GetPending: %v", err)
		}
		if _, err := s.TakePending(ctx, "k", t0); err != nil {
			t.Fatal(err)
		}
		if _, err := s.TakePending(ctx, "k", t0); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("second take: %v", err)
		}
	})
}

func TestDeviceCodeLifecycle(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		d := store.DeviceCode{Hash: "dh", UserCode: "ABCD-EFGH", ClientID: "c", Status: store.DevicePending,
			Interval: 5 * time.Second, CreatedAt: t0, ExpiresAt: t0.Add(10 * time.Minute)}
		if err := s.CreateDeviceCode(ctx, d); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateDeviceCode(ctx, store.DeviceCode{Hash: "other", UserCode: "ABCD-EFGH", ExpiresAt: t0}); !errors.Is(err, store.ErrExists) {
			t.Fatalf("duplicate user code: %v", err)
		}
		if err := s.ConsumeDeviceCode(ctx, "dh"); !errors.Is(err, store.ErrAlreadyUsed) {
			t.Fatalf("consume before approval: %v", err)
		}
		prev, err := s.PollDeviceCode(ctx, "dh", t0.Add(time.Second))
		if err != nil || !prev.LastPoll.IsZero() || prev.Interval != 5*time.Second {
			t.Fatalf("first poll = %+v, %v", prev, err)
		}
		if prev, _ = s.PollDeviceCode(ctx, "dh", t0.Add(2*time.Second)); !prev.LastPoll.Equal(t0.Add(time.Second)) {
			t.Fatalf("second poll saw LastPoll %v", prev.LastPoll)
		}
		if err := s.DecideDeviceCode(ctx, "ABCD-EFGH", store.DeviceApproved, "u", t0); err != nil {
			t.Fatal(err)
		}
		if err := s.DecideDeviceCode(ctx, "ABCD-EFGH", store.DeviceDenied, "u", t0); !errors.Is(err, store.ErrAlreadyUsed) {
			t.Fatalf("second decision: %v", err)
		}
		if err := s.ConsumeDeviceCode(ctx, "dh"); err != nil {
			t.Fatal(err)
		}
		if err := s.ConsumeDeviceCode(ctx, "dh"); !errors.Is(err, store.ErrAlreadyUsed) {
			t.Fatalf("second consume: %v", err)
		}
	})
}

func TestRevokeConsentRevokesFamilies(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		if err := s.SaveConsent(ctx, store.Consent{UserID: "u", ClientID: "c", Scopes: []string{"openid"}, CreatedAt: t0}); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveConsent(ctx, store.Consent{UserID: "u", ClientID: "c", Scopes: []string{"openid", "email"}, CreatedAt: t0}); err != nil {
			t.Fatal(err)
		}
		if c, err := s.GetConsent(ctx, "u", "c"); err != nil || len(c.Scopes) != 2 {
			t.Fatalf("GetConsent = %+v, %v", c, err)
		}
		if err := s.CreateFamily(ctx, store.Family{ID: "f", ClientID: "c", UserID: "u", ExpiresAt: t0.Add(time.Hour)}, nil); err != nil {
			t.Fatal(err)
		}
		if err := s.RevokeConsent(ctx, "u", "c", t0); err != nil {
			t.Fatal(err)
		}
		if f, err := s.GetFamily(ctx, "f"); err != nil || !f.Revoked() {
			t.Fatalf("family after consent revocation: %+v, %v", f, err)
		}
		if cs, err := s.ListConsents(ctx, "u"); err != nil || len(cs) != 0 {
			t.Fatalf("ListConsents = %v, %v", cs, err)
		}
	})
}

func TestUsersAndUpstreamUpsert(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		if err := s.CreateUser(ctx, store.User{ID: "u1", Name: "alice", PasswordHash: "x", CreatedAt: t0}); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateUser(ctx, store.User{ID: "u2", Name: "alice"}); !errors.Is(err, store.ErrExists) {
			t.Fatalf("duplicate name: %v", err)
		}
		first, err := s.UpsertUpstreamUser(ctx, store.User{ID: "u3", Name: "bob@up", Upstream: "https://up bob", Groups: []string{"dev"}})
		if err != nil {
			t.Fatal(err)
		}
		again, err := s.UpsertUpstreamUser(ctx, store.User{ID: "u4", Name: "bob@up", Upstream: "https://up bob", Groups: []string{"ops"}})
		if err != nil || again.ID != first.ID || !slices.Equal(again.Groups, []string{"ops"}) {
			t.Fatalf("second upsert = %+v, %v; want ID %s with groups [ops]", again, err, first.ID)
		}
		if err := s.DeleteUserByName(ctx, "alice"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetUserByName(ctx, "alice"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("after delete: %v", err)
		}
	})
}

func TestDeleteExpired(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		for i, exp := range []time.Time{t0.Add(-time.Hour), t0.Add(time.Hour)} {
			if err := s.PutPending(ctx, fmt.Sprint(i), []byte("v"), exp); err != nil {
				t.Fatal(err)
			}
			if err := s.CreateSession(ctx, store.Session{Hash: fmt.Sprint(i), UserID: "u", ExpiresAt: exp}); err != nil {
				t.Fatal(err)
			}
		}
		n, err := s.DeleteExpired(ctx, t0)
		if err != nil || n != 2 {
			t.Fatalf("DeleteExpired = %d, %v; want 2", n, err)
		}
		if _, err := s.GetPending(ctx, "1", t0); err != nil {
			t.Fatalf("unexpired row went: %v", err)
		}
	})
}

// TestRevokeBeforeCreateStaysRevoked covers a code replay that revokes the
// family before the first redemption has stored it.
func TestRevokeBeforeCreateStaysRevoked(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		if err := s.RevokeFamily(ctx, "early", t0); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateFamily(ctx, store.Family{ID: "early", ClientID: "c", ExpiresAt: t0.Add(time.Hour)},
			&store.RefreshToken{Hash: "R", FamilyID: "early", ExpiresAt: t0.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if _, f, err := s.GetRefreshToken(ctx, "R"); err != nil || !f.Revoked() {
			t.Fatalf("family created after revocation: revoked=%v err=%v, want revoked", f.Revoked(), err)
		}
	})
}
