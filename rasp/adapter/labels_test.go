package adapter

import (
	"slices"
	"testing"

	"github.com/lambda-rasp/lambda-rasp/rasp/wire"
)

// TestEventSourcesOnTheWire holds the event sources Parse reports to the
// values the extension accepts as metric labels.
func TestEventSourcesOnTheWire(t *testing.T) {
	got := []string{SourceAPIGatewayV1, SourceAPIGatewayV2, SourceALB, SourceFunctionURL, SourceWebSocket,
		SourceSQS, SourceSNS, SourceEventBridge, SourceS3, SourceKinesis, SourceDynamoDB, SourceJSON}
	want := wire.LabelEventSource.Values()
	if !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))) {
		t.Errorf("adapter event sources %v, wire.LabelEventSource %v", got, want)
	}
}
