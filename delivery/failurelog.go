package delivery

import (
	"sync"
	"time"
)

// The defaults of the failure log (Config.FailureLogEvery and
// Config.FailureLogInterval).
const (
	DefaultFailureLogEvery    = 1000
	DefaultFailureLogInterval = time.Minute
)

// failureLog decides which failed attempts make a log line, per webhook: a
// dead endpoint fails every attempt, and a line per attempt would bury the
// rest of the log (8,371 lines a minute were seen). It says when a webhook
// starts failing, then sums up every Every failures or every Interval, and
// says when it recovers. Every attempt is still in the attempts table and
// the metrics.
//
// A webhook that flaps (fails, succeeds, fails…) makes no more lines: a new
// streak starting within Interval of the webhook's last line is not
// announced on its own but counted into the next summary, and a recovery
// is announced only for a streak that was (by its first line, or by a
// summary with no success in it).
type failureLog struct {
	every    int
	interval time.Duration

	mu sync.Mutex
	by map[string]*webhookLog
}

// webhookLog is one webhook's failures as the log knows them.
type webhookLog struct {
	project string
	// failing is set while a failure streak runs: since when, how many
	// failed attempts in a row, and whether a line said so.
	failing   bool
	since     time.Time
	streak    int
	announced bool
	// What happened since the last line, and when that was.
	saidAt                     time.Time
	failures, final, successes int
	lastStatus                 int
	lastError                  string
	lastAt                     time.Time
}

// logLine is what a logged attempt adds to the log.
type logLine int

const (
	lineNone      logLine = iota
	lineFirst             // a webhook starts failing: the attempt's own line
	lineSummary           // failures since the last line, summed up
	lineRecovered         // an announced streak ended with a success
)

// failureSummary is a webhook's counts as a line reports them.
type failureSummary struct {
	webhook, project           string
	failing                    bool
	since                      time.Time
	streak                     int
	failures, final, successes int
	lastStatus                 int
	lastError                  string
}

func newFailureLog(every int, interval time.Duration) *failureLog {
	return &failureLog{every: every, interval: interval, by: map[string]*webhookLog{}}
}

// failed notes a failed attempt of webhook at now (final when its
// delivery failed for good) and tells which line, if any, it makes.
func (l *failureLog) failed(webhook, project string, final bool, status int, errText string, now time.Time) (logLine, failureSummary) {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.by[webhook]
	if w == nil {
		w = &webhookLog{project: project}
		l.by[webhook] = w
	}
	w.lastStatus, w.lastError, w.lastAt = status, errText, now
	if !w.failing {
		w.failing, w.since, w.streak, w.announced = true, now, 1, false
		if w.saidAt.IsZero() || now.Sub(w.saidAt) >= l.interval {
			w.announced, w.saidAt = true, now
			return lineFirst, w.summary(webhook)
		}
	} else {
		w.streak++
	}
	w.failures++
	if final {
		w.final++
	}
	if w.failures >= l.every || now.Sub(w.saidAt) >= l.interval {
		return lineSummary, l.said(webhook, w, now)
	}
	return lineNone, failureSummary{}
}

// succeeded notes a successful attempt of webhook at now; it makes a line
// when it ends an announced streak.
func (l *failureLog) succeeded(webhook string, now time.Time) (logLine, failureSummary) {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.by[webhook]
	if w == nil {
		return lineNone, failureSummary{}
	}
	w.lastAt = now
	if !w.failing {
		w.successes++
		return lineNone, failureSummary{}
	}
	s := w.summary(webhook)
	w.failing = false
	if !w.announced {
		// A streak of a flapping webhook: its failures wait for the next
		// summary.
		w.successes++
		return lineNone, failureSummary{}
	}
	w.saidAt, w.failures, w.final, w.successes = now, 0, 0, 0
	return lineRecovered, s
}

// due returns the summaries of the webhooks with failures unsaid for
// Interval, or of all with failures unsaid when all is set (the dispatcher
// stops), and forgets the webhooks without an attempt for forget.
func (l *failureLog) due(now time.Time, all bool, forget time.Duration) []failureSummary {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []failureSummary
	for id, w := range l.by {
		if w.failures > 0 && (all || now.Sub(w.saidAt) >= l.interval) {
			out = append(out, l.said(id, w, now))
		}
		if now.Sub(w.lastAt) >= forget && now.Sub(w.saidAt) >= l.interval {
			delete(l.by, id)
		}
	}
	return out
}

// said returns w's summary and starts counting anew. l.mu is held.
func (l *failureLog) said(webhook string, w *webhookLog, now time.Time) failureSummary {
	s := w.summary(webhook)
	if w.failing && w.successes == 0 {
		// A streak summed up as such: its end is news.
		w.announced = true
	}
	w.saidAt, w.failures, w.final, w.successes = now, 0, 0, 0
	return s
}

func (w *webhookLog) summary(webhook string) failureSummary {
	return failureSummary{webhook: webhook, project: w.project, failing: w.failing, since: w.since, streak: w.streak,
		failures: w.failures, final: w.final, successes: w.successes, lastStatus: w.lastStatus, lastError: w.lastError}
}
