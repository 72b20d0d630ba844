module github.com/nbserv/go-nbserv

go 1.24.0

require (
	github.com/coder/websocket v1.8.15
	github.com/google/go-cmp v0.7.0
	github.com/hashicorp/go-cleanhttp v0.5.2
	github.com/jarcoal/httpmock v1.4.2
	go.uber.org/goleak v1.3.0
)

require (
	github.com/go-python/gpython v0.2.0
	github.com/hashicorp/go-retryablehttp v0.7.8
)
