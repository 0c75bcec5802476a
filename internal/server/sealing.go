package server

import (
	"errors"
	"net/http"

	"github.com/cruisegitops/cruise/internal/sealkeys"
	"github.com/cruisegitops/cruise/internal/server/apiv1"
)

// handleSealingPublicKey answers with the cluster's public sealing keys,
// read as the user like everything else: the ConfigMap is meant to be
// readable by every authenticated user, and the user's RBAC says so.
func (s *Server) handleSealingPublicKey(w http.ResponseWriter, r *http.Request) {
	c, err := s.kube.forIdentity(identityFrom(r.Context()))
	if err != nil {
		writeError(w, err)
		return
	}
	st := sealkeys.Store{Client: c, Namespace: s.opts.SealingKeysNamespace}
	p, err := st.Published(r.Context())
	if errors.Is(err, sealkeys.ErrNoPublicKey) {
		writeError(w, newError(http.StatusNotFound, apiv1.CodeNotFound, "%v", err))
		return
	}
	if err != nil {
		writeError(w, fromKube(err, "the sealing public key"))
		return
	}
	writeJSON(w, http.StatusOK, apiv1.SealingPublicKey{Recipient: p.Recipient, Recipients: p.Recipients})
}
