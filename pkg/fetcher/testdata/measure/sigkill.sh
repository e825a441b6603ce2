#!/bin/bash
# #11's scenario: a feed lists 60 new pages (default politeness); the fetcher
# is SIGKILLed every 8 s, 6 times, restarted each time (lease_grace 6s).
set -u
W=${W:-/tmp/nwmeasure}
HERE=$(cd "$(dirname "$0")" && pwd)
PORT=$1; D=$W/kill-$PORT; rm -rf $D; mkdir -p $D; cd $D
cat > cfg.yaml <<EOC
nats:
  url: nats://127.0.0.1:4444
http:
  listen: 127.0.0.1:9395
fetcher:
  allow_private_networks: true
  timeout: 5s
  lease_grace: 6s
feeds:
  - id: kill$PORT
    url: http://127.0.0.1:$PORT/feed.xml
    interval: 1h
EOC
python3 $HERE/site.py $PORT 60 > site.out 2>&1 & S=$!
sleep 1
$W/fetcher -config cfg.yaml > f0.log 2>&1 & F=$!
t0=$(date +%s.%N)
for k in 1 2 3 4 5 6; do
  sleep 8
  echo "kill $k at $(echo "$(date +%s.%N) - $t0" | bc)s: $($W/probe nats://127.0.0.1:4444 news.articles.kill$PORT)"
  kill -9 $F; wait $F 2>/dev/null
  $W/fetcher -config cfg.yaml > f$k.log 2>&1 & F=$!
done
echo "kills over at $(echo "$(date +%s.%N) - $t0" | bc)s"
for i in $(seq 1 120); do
  out=$($W/probe nats://127.0.0.1:4444 news.articles.kill$PORT)
  case "$out" in 60*) break;; esac
  sleep 1
done
echo "end $(echo "$(date +%s.%N) - $t0" | bc)s: $out"
kill -TERM $F; wait $F
kill $S
echo "page downloads: $(grep -c /news/ site.log), distinct $(grep /news/ site.log | awk '{print $2}' | sort -u | wc -l), twice or more: $(grep /news/ site.log | awk '{print $2}' | sort | uniq -d | wc -l)"
