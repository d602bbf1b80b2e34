package redisstream

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/redis/go-redis/v9"
)

// LogTo sends go-redis's own log lines (a pool that cannot dial a broker,
// say) to l at debug level, instead of the standard logger's stderr: each
// failed attempt is already recorded, with its error, and logged by the
// dispatcher. go-redis keeps one logger for the whole process, so serve
// calls this once, before any delivery.
func LogTo(l *slog.Logger) { redis.SetLogger(logging{l}) }

// logging adapts a *slog.Logger to go-redis's logger.
type logging struct{ l *slog.Logger }

// Printf logs one go-redis line.
func (g logging) Printf(ctx context.Context, format string, v ...any) {
	g.l.DebugContext(ctx, fmt.Sprintf(format, v...), slog.String("component", "go-redis"))
}
