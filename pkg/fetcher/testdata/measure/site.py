import http.server, time, sys, threading, email.utils
N = int(sys.argv[2]); PORT = int(sys.argv[1]); SLOW = float(sys.argv[3]) if len(sys.argv) > 3 else 0
LOG = open('site.log', 'a', buffering=1)
now = time.time()
PAGE = """<!doctype html><html lang="en"><head><title>Story %s</title></head><body><article><h1>Story %s</h1>
<p>India and the United States agreed on Friday to co-produce armoured infantry vehicles and to speed up the delivery of 31 MQ-9B drones, officials said after the talks, story %s.</p>
<p>The two sides also discussed the Quad, the security of the Indo-Pacific and the joint production of GE F-414 jet engines in India by Hindustan Aeronautics.</p>
<p>Ministers condemned the attack and called for action against the groups behind it.</p></article></body></html>"""
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    def log_message(self, *a): pass
    def do_GET(self):
        LOG.write("%.3f %s\n" % (time.time(), self.path))
        if self.path.startswith('/feed.xml'):
            items = ''.join('<item><title>Story %d</title><link>http://127.0.0.1:%d/news/%d</link><guid>%d</guid><description>Summary %d</description><pubDate>%s</pubDate></item>' % (i, PORT, i, i, i, email.utils.formatdate(now - i*60)) for i in range(N))
            body = ('<?xml version="1.0"?><rss version="2.0"><channel><title>Site</title><link>http://127.0.0.1/</link>%s</channel></rss>' % items).encode()
            ct = 'application/rss+xml'
        elif self.path.startswith('/news/'):
            if SLOW: time.sleep(SLOW)
            i = self.path.rsplit('/', 1)[1]
            body = (PAGE % (i, i, i)).encode(); ct = 'text/html'
        else:
            self.send_response(404); self.send_header('Content-Length', '0'); self.end_headers(); return
        self.send_response(200); self.send_header('Content-Type', ct); self.send_header('Content-Length', str(len(body))); self.end_headers(); self.wfile.write(body)
http.server.ThreadingHTTPServer(('127.0.0.1', PORT), H).serve_forever()
