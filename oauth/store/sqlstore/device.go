package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/cruisegitops/cruise/oauth/store"
)

const deviceColumns = `hash, user_code, client_id, scopes, status, user_id, auth_time, interval_ms, last_poll, created_at, expires_at`

// CreateDeviceCode stores a device authorization request; store.ErrExists
// if the user code collides.
func (s *Store) CreateDeviceCode(ctx context.Context, d store.DeviceCode) error {
	_, err := s.exec(ctx, `INSERT INTO device_codes (`+deviceColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.Hash, d.UserCode, d.ClientID, encodeList(d.Scopes), string(d.Status), d.UserID, ms(d.AuthTime),
		d.Interval.Milliseconds(), ms(d.LastPoll), ms(d.CreatedAt), ms(d.ExpiresAt))
	if isUniqueViolation(err) {
		return store.ErrExists
	}
	return err
}

func scanDevice(row scanner) (store.DeviceCode, error) {
	var d store.DeviceCode
	var scopes, status string
	var auth, interval, poll, created, exp int64
	if err := row.Scan(&d.Hash, &d.UserCode, &d.ClientID, &scopes, &status, &d.UserID, &auth, &interval, &poll, &created, &exp); err != nil {
		return store.DeviceCode{}, notFound(err)
	}
	d.Scopes, d.Status, d.Interval = decodeList(scopes), store.DeviceStatus(status), time.Duration(interval)*time.Millisecond
	d.AuthTime, d.LastPoll, d.CreatedAt, d.ExpiresAt = fromMS(auth), fromMS(poll), fromMS(created), fromMS(exp)
	return d, nil
}

// GetDeviceCodeByUserCode returns an unexpired request by its user code.
func (s *Store) GetDeviceCodeByUserCode(ctx context.Context, userCode string, now time.Time) (store.DeviceCode, error) {
	return scanDevice(s.queryRow(ctx, `SELECT `+deviceColumns+` FROM device_codes WHERE user_code = ? AND expires_at > ?`, userCode, ms(now)))
}

// DecideDeviceCode approves or denies a pending request.
func (s *Store) DecideDeviceCode(ctx context.Context, userCode string, decision store.DeviceStatus, userID string, authTime time.Time) error {
	res, err := s.exec(ctx, `UPDATE device_codes SET status = ?, user_id = ?, auth_time = ? WHERE user_code = ? AND status = ?`,
		string(decision), userID, ms(authTime), userCode, string(store.DevicePending))
	return oneRow(res, err, store.ErrAlreadyUsed)
}

// PollDeviceCode records a poll and returns the request as it was before.
func (s *Store) PollDeviceCode(ctx context.Context, hash string, now time.Time) (store.DeviceCode, error) {
	var d store.DeviceCode
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		d, err = scanDevice(tx.QueryRowContext(ctx, s.q(`SELECT `+deviceColumns+` FROM device_codes WHERE hash = ?`), hash))
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.q(`UPDATE device_codes SET last_poll = ? WHERE hash = ?`), ms(now), hash)
		return err
	})
	return d, err
}

// ConsumeDeviceCode turns an approved request into consumed, once.
func (s *Store) ConsumeDeviceCode(ctx context.Context, hash string) error {
	res, err := s.exec(ctx, `UPDATE device_codes SET status = ? WHERE hash = ? AND status = ?`,
		string(store.DeviceConsumed), hash, string(store.DeviceApproved))
	return oneRow(res, err, store.ErrAlreadyUsed)
}
