package api

import (
	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/expressions"
)

// checkExpressions compiles w's CEL expressions, each refused with its
// compiler's message and position, or its cost, under its own name. A
// transform makes the body itself: it cannot be combined with payloadEncoding
// base64, which sends the event's data as raw bytes.
func checkExpressions(w *hookgate.Webhook) error {
	if w.Filter != "" {
		if _, err := expressions.CachedFilter(w.Filter); err != nil {
			return err
		}
	}
	if w.Transform != "" {
		if w.PayloadEncoding == hookgate.EncodingBase64 {
			return hookgate.InvalidParam("transform", w.Transform, "transform makes the body, so it cannot be combined with payloadEncoding base64; remove one of them")
		}
		if _, err := expressions.CachedTransform(w.Transform); err != nil {
			return err
		}
	}
	if w.TransformHeaders != "" {
		if _, err := expressions.CachedHeaders(w.TransformHeaders); err != nil {
			return err
		}
	}
	return nil
}
