package hookgate

import (
	"context"
	"errors"
	"time"
)

// AttemptOutcome is the result of one attempt and the state its delivery
// moves to.
type AttemptOutcome struct {
	// Attempt is the request made; with an empty ID none was (the webhook
	// was deactivated or deleted meanwhile) and only the status changes.
	Attempt Attempt
	// ProjectID and LeaseUntil identify the claimed row.
	ProjectID string
	// WebhookID, when set with an attempt, keeps the webhook's failure
	// streak: a 2xx ends it, anything else starts it if none runs.
	WebhookID  string
	LeaseUntil time.Time
	// Ordered is set for a delivery of a FIFO webhook, with its
	// OrderingKey and WebhookID: once it is done (neither pending nor
	// paused), the next delivery of its key is due.
	Ordered     bool
	OrderingKey string
	// Status is the delivery's new status; NextAttemptAt matters when it is
	// pending.
	Status        string
	NextAttemptAt time.Time
}

// FinishesHead reports whether o finishes the head of a FIFO key (an
// ordered delivery neither pending nor paused): the next delivery of its
// key is then due.
func (o *AttemptOutcome) FinishesHead() bool {
	return o.Ordered && o.Status != DeliveryPending && o.Status != DeliveryPaused
}

// DueRow names a delivery given back to the queue and the time it was
// given back due at (see Queue.HastenDeliveries).
type DueRow struct {
	ProjectID, ID string
	Due           time.Time
}

// ErrNodeNameTaken says that another live process runs under a node's
// name: leases and heartbeats key on the name, so two must never share one.
var ErrNodeNameTaken = errors.New("hookgate: another live process holds this node name")

// Queue is what the delivery engine needs of the store: the deliveries table
// read as a queue of leased rows, and the few reads and writes around an
// attempt.
type Queue interface {
	// ClaimDue leases up to limit pending deliveries due at now to node, for
	// lease, and returns them with the lease's end.
	ClaimDue(ctx context.Context, node string, now time.Time, limit int, lease time.Duration) ([]*Delivery, time.Time, error)
	// Heartbeat records that node, run by the process incarnation, is
	// alive at now. Error: ErrNodeNameTaken when another incarnation holds
	// the name.
	Heartbeat(ctx context.Context, node, incarnation string, now time.Time) error
	// TakeOver gives back to the queue the leased rows of the nodes other
	// than node whose latest heartbeat is before stale, forgets those nodes,
	// and returns how many nodes it forgot and rows it gave back.
	TakeOver(ctx context.Context, node string, stale time.Time) (nodes, rows int64, err error)
	// ReleaseLeases gives back every leased row not held by node: for a
	// node that knows it is the only one (the embedded store's lock), so
	// every other lease is an orphan of a process that died.
	ReleaseLeases(ctx context.Context, node string) (int64, error)
	// Leave gives back the rows still leased to node, which incarnation
	// ran and has stopped, forgets it, and returns how many rows it gave
	// back; nothing when another incarnation holds the name now.
	Leave(ctx context.Context, node, incarnation string) (int64, error)
	// RecordAttempts stores attempts and moves their deliveries on; a row
	// whose lease is no longer the one given keeps its state.
	RecordAttempts(ctx context.Context, now time.Time, outs []AttemptOutcome) error
	// HastenDeliveries makes due at now the rows given back due later
	// (released without an attempt) that are still exactly as given back:
	// pending, not leased, due at the time given. A row another node
	// claimed, one cancelled, retried, redriven, or given back again at
	// another time is left alone, and so is a row due at or before now.
	// Best effort: a release not yet recorded does not match. It returns
	// how many rows it made due.
	HastenDeliveries(ctx context.Context, now time.Time, rows []DueRow) (int64, error)
	// FindWebhook finds a webhook with its secrets decrypted; ENotFound.
	FindWebhook(ctx context.Context, projectID, id string) (*Webhook, error)
	// DeliveryWebhook is FindWebhook for sending: the webhook may be shared
	// with other callers and must not be changed.
	DeliveryWebhook(ctx context.Context, projectID, id string) (*Webhook, error)
	// FindEvent finds an event; ENotFound.
	FindEvent(ctx context.Context, projectID, id string) (*Event, error)
	// FindEventsForDelivery reads the events of claimed deliveries, keyed by
	// project and event ID; large events may come without data.
	FindEventsForDelivery(ctx context.Context, ds []*Delivery) (map[[2]string]*Event, error)
	// FindProject finds a project by ID or slug; ENotFound.
	FindProject(ctx context.Context, ref string) (*Project, error)
	// CreateEvents accepts events, as Store.CreateEvents.
	CreateEvents(ctx context.Context, projectID string, in []EventInput) ([]*Event, error)
	// SetWebhookStatus changes a webhook's status, as Store.SetWebhookStatus.
	SetWebhookStatus(ctx context.Context, projectID, id, status string, now time.Time) (*Webhook, error)
	// RepairOrdering makes due every FIFO key's head that waits behind no
	// delivery (left so by a crash between two writes) and returns how
	// many.
	RepairOrdering(ctx context.Context, now time.Time) (int64, error)
	// ExpiringCertificates returns up to limit webhooks whose client
	// certificate expires before before and has not been announced
	// (AnnounceCertificate), in ID order after the ID after.
	ExpiringCertificates(ctx context.Context, before time.Time, after string, limit int) ([]*Webhook, error)
	// AnnounceCertificate records that the expiry of the client
	// certificate of fingerprint (hex SHA-256) of a webhook was announced,
	// as a compare-and-set that one caller wins: false when it was
	// already, or the webhook's certificate is another now.
	AnnounceCertificate(ctx context.Context, projectID, webhookID, fingerprint string) (bool, error)
	// Circuits returns every circuit that is not clean: open, half-open,
	// or closed with failures counted.
	Circuits(ctx context.Context) ([]*Circuit, error)
	// TakeProbe makes a webhook's circuit half-open with probe in flight
	// until until, when at now it may send one (Circuit.TakeProbe), as a
	// compare-and-set that one caller wins; it returns the circuit after,
	// and whether the probe is the caller's.
	TakeProbe(ctx context.Context, projectID, webhookID, probe string, now, until time.Time) (*Circuit, bool, error)
	// RecordCircuits applies reports to their circuits (Circuit.Record),
	// atomically, and returns each circuit after with its transition. Once
	// a probe's outcome is in, the deliveries held for it (pending, due at
	// its ProbeUntil) become due at now if the circuit closed, at its next
	// probe if it opened again.
	RecordCircuits(ctx context.Context, now time.Time, reports []CircuitReport) ([]CircuitChange, error)
	// DisableFailing disables the active webhooks whose every attempt has
	// failed since before cutoff and returns them.
	DisableFailing(ctx context.Context, cutoff, now time.Time) ([]*Webhook, error)

	// DueRecoveries first schedules the recoveries not yet scheduled: the
	// first probe first after the disabling, the end window after it. Then
	// it returns up to limit recoveries whose probe is due at now, before
	// their end, not stopped, of disabled webhooks whose autoRecover in
	// force is on.
	DueRecoveries(ctx context.Context, now time.Time, first, window time.Duration, limit int) ([]*Recovery, error)
	// ClaimProbe takes the step of r that is due (a compare-and-set on
	// r.NextProbeAt, so that one node alone makes each probe): it counts
	// the probe, made at now, and moves the next to next. False when
	// another node took the step, or the recovery ended.
	ClaimProbe(ctx context.Context, r *Recovery, next, now time.Time) (bool, error)
	// SaveProbe records a probe: its hookgate.ping event (for d's webhook
	// alone), its delivery d (KindProbe, in a final status) and its attempt,
	// and the answer on the recovery, in one transaction.
	SaveProbe(ctx context.Context, e *Event, d *Delivery, a *Attempt) error
	// StopRecovery ends a webhook's probing for reason (RecoveryGone); the
	// webhook stays disabled.
	StopRecovery(ctx context.Context, projectID, webhookID, reason string) error
	// EnableRecovered activates a webhook that is still disabled, as
	// SetWebhookStatus does (its paused deliveries are queued again), and
	// returns it with the number of deliveries queued again and when it
	// was disabled; EConflict when it is no longer disabled.
	EnableRecovered(ctx context.Context, projectID, webhookID string, now time.Time) (w *Webhook, requeued int, disabledAt time.Time, err error)
}

// Adopter takes the deliveries that ingest creates, leased to it in the
// same transaction ("claimed at birth"): the hot path then has no claim
// query, and the claim loop is left with retries, other nodes' work and
// recovery. The dispatcher is one.
type Adopter interface {
	// AdoptLease is asked before an ingest transaction: the node and lease
	// its new deliveries get; false leaves them unleased, for a claim (the
	// adopter is full or stopping).
	AdoptLease() (node string, lease time.Duration, ok bool)
	// AdoptDue is asked for each new delivery, with the number of that
	// webhook's deliveries adopted earlier in the same transaction: true
	// adopts it; false has it born unleased and due at the time returned
	// (the adopter holds as many rows for that webhook as it can send
	// soon), so that it costs no write before then.
	AdoptDue(webhookID string, adopted int, now time.Time) (bool, time.Time)
	// Adopt is given, after the transaction committed, the deliveries it
	// leased (never empty), their events by project and ID, and the end
	// of their lease. It must not block: it runs in the ingest path.
	Adopt(ds []*Delivery, events map[[2]string]*Event, until time.Time)
	// Deferred is given, after the transaction committed, the deliveries
	// born unleased and due later because AdoptDue said so (never empty),
	// by webhook ID, each with the due time it was born with: the adopter
	// may make them due sooner (Queue.HastenDeliveries) when their
	// webhook turns out to have room. It must not block.
	Deferred(rows map[string][]DueRow)
}
