#!/bin/bash
# A feed of 100,000 new items (default politeness): the fetcher's resident
# memory while it works through it, sampled every second for 40 s, and the
# articles published by then.
set -u
W=${W:-/tmp/nwmeasure}
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=${BIN:-$W/fetcher}
PORT=$1; D=$W/mem-$PORT; rm -rf $D; mkdir -p $D; cd $D
cat > cfg.yaml <<EOC
nats:
  url: nats://127.0.0.1:4444
http:
  listen: 127.0.0.1:9397
fetcher:
  allow_private_networks: true
  max_body_bytes: 52428800
feeds:
  - id: big$PORT
    url: http://127.0.0.1:$PORT/feed.xml
    interval: 1h
EOC
python3 $HERE/site.py $PORT 100000 > site.out 2>&1 & S=$!
sleep 1
$BIN -config cfg.yaml > f.log 2>&1 & F=$!
peak=0
for i in $(seq 1 40); do
  sleep 1
  r=$(awk '/VmRSS/ {print $2}' /proc/$F/status)
  [ "$r" -gt "$peak" ] && peak=$r
done
echo "peak RSS $((peak/1024)) MiB over 40 s; $($W/probe nats://127.0.0.1:4444 news.articles.big$PORT); page downloads $(grep -c /news/ site.log)"
kill -TERM $F; wait $F; kill $S
