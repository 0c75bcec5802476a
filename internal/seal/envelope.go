package seal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"filippo.io/age"
)

// Scope says where a sealed value may be unsealed.
type Scope string

// The scopes, from narrowest to widest.
const (
	// Strict: only as the same key of the Secret with the same name in the
	// same namespace (the default).
	Strict Scope = "strict"
	// NamespaceWide: as any Secret name in the same namespace (same key).
	NamespaceWide Scope = "namespace-wide"
	// ClusterWide: in any namespace, as any name (same key).
	ClusterWide Scope = "cluster-wide"
)

// ParseScope accepts the three scope names; "" means Strict.
func ParseScope(s string) (Scope, error) {
	switch Scope(s) {
	case "", Strict:
		return Strict, nil
	case NamespaceWide, ClusterWide:
		return Scope(s), nil
	}
	return "", fmt.Errorf("unknown scope %q: use strict, namespace-wide or cluster-wide", s)
}

// Target is where a value is sealed for, or being unsealed as.
type Target struct {
	Namespace string
	Name      string
	Key       string
}

// Limits on one sealed value. A Kubernetes Secret holds at most 1 MiB in
// all, so no single value may be larger.
const (
	// MaxValueSize is the largest plaintext value.
	MaxValueSize = 1 << 20
	// MaxStanzas is the most recipient stanzas an age header may carry.
	MaxStanzas = 32
	// maxEnvelopeSize bounds the decrypted envelope: the value in base64
	// plus the JSON around it and the names (each at most 253 bytes).
	maxEnvelopeSize = MaxValueSize/3*4 + 8<<10
	// MaxSealedSize bounds one age file: the envelope, age's 16-byte tag
	// per 64 KiB chunk, and a header.
	MaxSealedSize = maxEnvelopeSize + maxEnvelopeSize/(64<<10)*16 + 32<<10
)

// Errors Open and Seal wrap; test with errors.Is.
var (
	// ErrMalformed: not an age file, or an envelope that is not valid.
	ErrMalformed = errors.New("not a sealed value")
	// ErrTooLarge: over MaxValueSize, MaxSealedSize or MaxStanzas.
	ErrTooLarge = errors.New("sealed value too large")
	// ErrUnknownKey: sealed to none of the identities given.
	ErrUnknownKey = errors.New("sealed to a key this cluster does not hold")
	// ErrTampered: the ciphertext fails authentication.
	ErrTampered = errors.New("sealed value fails authentication (tampered or truncated)")
	// ErrWrongTarget: sealed for another namespace, name, key or scope.
	ErrWrongTarget = errors.New("sealed for another target")
)

// envelope is the plaintext of one sealed value. Value is []byte so that
// encoding/json writes it as standard base64.
type envelope struct {
	Scope     Scope  `json:"scope"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name,omitempty"`
	Key       string `json:"key"`
	Value     []byte `json:"value"`
}

// Seal encrypts value for t under scope to every recipient, returning a
// binary age file. A namespace-wide envelope omits the name; a
// cluster-wide one omits the namespace and the name.
func Seal(value []byte, scope Scope, t Target, recipients ...age.Recipient) ([]byte, error) {
	if len(recipients) == 0 {
		return nil, errors.New("seal: no recipients")
	}
	if len(value) > MaxValueSize {
		return nil, fmt.Errorf("%w: key %q holds %d bytes, the limit is %d", ErrTooLarge, t.Key, len(value), MaxValueSize)
	}
	if len(recipients) > MaxStanzas {
		return nil, fmt.Errorf("%w: %d recipients, the limit is %d", ErrTooLarge, len(recipients), MaxStanzas)
	}
	if t.Key == "" {
		return nil, errors.New("seal: empty key")
	}
	env := envelope{Scope: scope, Key: t.Key, Value: value}
	switch scope {
	case Strict:
		if t.Namespace == "" || t.Name == "" {
			return nil, errors.New("seal: a strict value needs a namespace and a name")
		}
		env.Namespace, env.Name = t.Namespace, t.Name
	case NamespaceWide:
		if t.Namespace == "" {
			return nil, errors.New("seal: a namespace-wide value needs a namespace")
		}
		env.Namespace = t.Namespace
	case ClusterWide:
	default:
		return nil, fmt.Errorf("seal: unknown scope %q", scope)
	}
	plain, err := json.Marshal(env)
	if err != nil {
		return nil, fmt.Errorf("seal: encode envelope: %w", err)
	}
	var out bytes.Buffer
	w, err := age.Encrypt(&out, recipients...)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	if _, err := w.Write(plain); err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return out.Bytes(), nil
}

// Open decrypts a value Seal produced and returns it only if its envelope
// allows unsealing it as t: the key always matches, and the namespace and
// name as far as the sealed scope binds them.
func Open(sealed []byte, t Target, identities ...age.Identity) ([]byte, error) {
	env, err := decryptEnvelope(sealed, identities)
	if err != nil {
		return nil, err
	}
	if err := env.allows(t); err != nil {
		return nil, err
	}
	return env.Value, nil
}

// Sealed is what Inspect finds in a sealed value.
type Sealed struct {
	Scope  Scope
	Target Target
	Value  []byte
}

// Inspect decrypts a sealed value without checking its target, for
// re-sealing it as it was (`cruise seal --reencrypt`). Never unseal into a
// cluster with it.
func Inspect(sealed []byte, identities ...age.Identity) (Sealed, error) {
	env, err := decryptEnvelope(sealed, identities)
	if err != nil {
		return Sealed{}, err
	}
	return Sealed{Scope: env.Scope, Target: Target{Namespace: env.Namespace, Name: env.Name, Key: env.Key}, Value: env.Value}, nil
}

func decryptEnvelope(sealed []byte, identities []age.Identity) (envelope, error) {
	if len(sealed) > MaxSealedSize {
		return envelope{}, fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, len(sealed), MaxSealedSize)
	}
	if err := checkHeader(sealed); err != nil {
		return envelope{}, err
	}
	r, err := age.Decrypt(bytes.NewReader(sealed), identities...)
	if err != nil {
		var noMatch *age.NoIdentityMatchError
		if errors.As(err, &noMatch) {
			return envelope{}, ErrUnknownKey
		}
		// A header that parsed but whose MAC fails, or a wrapped key that
		// does not unwrap, is tampering: checkHeader already refused what
		// is not an age file at all.
		return envelope{}, fmt.Errorf("%w: %v", ErrTampered, err)
	}
	plain, err := io.ReadAll(io.LimitReader(r, maxEnvelopeSize+1))
	if err != nil {
		return envelope{}, fmt.Errorf("%w: %v", ErrTampered, err)
	}
	if len(plain) > maxEnvelopeSize {
		return envelope{}, fmt.Errorf("%w: envelope over %d bytes", ErrTooLarge, maxEnvelopeSize)
	}
	var env envelope
	dec := json.NewDecoder(bytes.NewReader(plain))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil {
		return envelope{}, fmt.Errorf("%w: envelope: %v", ErrMalformed, err)
	}
	if err := env.valid(); err != nil {
		return envelope{}, err
	}
	return env, nil
}

// valid checks the envelope's own shape: a scope binds exactly the fields
// it names, so an envelope cannot carry a name its scope ignores.
func (e envelope) valid() error {
	if e.Key == "" {
		return fmt.Errorf("%w: envelope without a key", ErrMalformed)
	}
	switch e.Scope {
	case Strict:
		if e.Namespace == "" || e.Name == "" {
			return fmt.Errorf("%w: strict envelope without a namespace and a name", ErrMalformed)
		}
	case NamespaceWide:
		if e.Namespace == "" || e.Name != "" {
			return fmt.Errorf("%w: namespace-wide envelope must name a namespace and no name", ErrMalformed)
		}
	case ClusterWide:
		if e.Namespace != "" || e.Name != "" {
			return fmt.Errorf("%w: cluster-wide envelope must name no namespace or name", ErrMalformed)
		}
	default:
		return fmt.Errorf("%w: envelope scope %q", ErrMalformed, e.Scope)
	}
	if len(e.Value) > MaxValueSize {
		return fmt.Errorf("%w: value over %d bytes", ErrTooLarge, MaxValueSize)
	}
	return nil
}

func (e envelope) allows(t Target) error {
	if e.Key != t.Key {
		return fmt.Errorf("%w: sealed as key %q, not %q", ErrWrongTarget, e.Key, t.Key)
	}
	if e.Scope != ClusterWide && e.Namespace != t.Namespace {
		return fmt.Errorf("%w: sealed %s for namespace %q, not %q", ErrWrongTarget, e.Scope, e.Namespace, t.Namespace)
	}
	if e.Scope == Strict && e.Name != t.Name {
		return fmt.Errorf("%w: sealed strict for name %q, not %q", ErrWrongTarget, e.Name, t.Name)
	}
	return nil
}

// checkHeader refuses what is not an age v1 file, and headers with more
// recipient stanzas than MaxStanzas, before age spends time on them: every
// stanza costs an X25519 operation per identity.
func checkHeader(b []byte) error {
	const intro = "age-encryption.org/v1\n"
	if !bytes.HasPrefix(b, []byte(intro)) {
		return fmt.Errorf("%w: not an age v1 file", ErrMalformed)
	}
	end := bytes.Index(b, []byte("\n---"))
	if end < 0 {
		return fmt.Errorf("%w: age header without an end", ErrMalformed)
	}
	if n := bytes.Count(b[:end+1], []byte("\n-> ")); n > MaxStanzas {
		return fmt.Errorf("%w: %d recipient stanzas, the limit is %d", ErrTooLarge, n, MaxStanzas)
	}
	return nil
}
