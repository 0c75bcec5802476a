package oauth

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/cruisegitops/cruise/oauth/dpop"
	"github.com/cruisegitops/cruise/oauth/store"
)

// dpopMaxAge bounds the age of a proof (RFC 9449 section 11.1).
const dpopMaxAge = time.Minute

// checkDPoP verifies the request's DPoP proof, if any (RFC 9449 section
// 4.3), and records its jti so that it cannot be replayed (section 11.1).
// A request without a DPoP header gives a nil proof.
func (s *Server) checkDPoP(ctx context.Context, r *http.Request, htu, accessToken string) (*dpop.Proof, *Error) {
	vals := r.Header.Values("DPoP")
	if len(vals) == 0 {
		return nil, nil
	}
	if len(vals) > 1 {
		return nil, errorf(ErrInvalidDPoPProof, http.StatusBadRequest, "more than one DPoP header")
	}
	proof, err := dpop.Verify(vals[0], dpop.Options{Method: r.Method, URL: htu, AccessToken: accessToken, Now: s.now(), MaxAge: dpopMaxAge})
	if err != nil {
		return nil, errorf(ErrInvalidDPoPProof, http.StatusBadRequest, "%v", err)
	}
	err = s.store.RecordJTI(ctx, "dpop:"+proof.JKT+":"+proof.JTI, proof.IssuedAt.Add(2*dpopMaxAge))
	if errors.Is(err, store.ErrAlreadyUsed) {
		return nil, errorf(ErrInvalidDPoPProof, http.StatusBadRequest, "DPoP proof replayed")
	} else if err != nil {
		return nil, s.internalError(ctx, "record DPoP jti", err)
	}
	return proof, nil
}
