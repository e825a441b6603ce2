// Package httpguard is the one HTTP client newswatch uses to reach the outside
// world: feeds and article pages in the fetcher, webhook and Slack sinks in the
// notifier.
//
// Feed URLs, the links inside feeds and webhook targets all come from outside
// the process, so the client treats every hop as hostile:
//
//   - Addresses are checked when the connection is dialled, after DNS
//     resolution, so a hostname that resolves (or re-resolves, as in DNS
//     rebinding) to a loopback, private, link-local or otherwise special
//     address is refused, and so is a redirect to one. The cloud metadata
//     endpoint 169.254.169.254 is the address this exists for.
//   - Only http and https are spoken, on the first request and on redirects,
//     and redirects are bounded. A client built WithFollowRedirects(false),
//     as every sink's is, returns a 3xx as it is and never follows it.
//   - A client may be given a NetworkPolicy that admits chosen non-public
//     addresses (private ranges, CIDRs, host names): each sink has its own,
//     under which link-local and cloud metadata addresses stay refused unless
//     a CIDR names them.
//   - Connect, response-header and total timeouts are always set.
//   - Bodies are decompressed here rather than by net/http, so the size limit
//     counts decompressed bytes and a gzip or brotli bomb stops at the limit.
//
// Build one Client per process and share it: its transport keeps connections
// alive per host, and that pool is lost if a client is built per request.
//
// Every error the client returns can be turned into a short, bounded metric
// label with Reason.
package httpguard
