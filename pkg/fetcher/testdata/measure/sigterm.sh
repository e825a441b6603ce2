#!/bin/bash
# #17's scenario: pages take 3 s each (5 new items, default politeness);
# SIGTERM 1.5 s after start, then an immediate restart (a new owner id).
set -u
W=${W:-/tmp/nwmeasure}
HERE=$(cd "$(dirname "$0")" && pwd)
PORT=$1; D=$W/term-$PORT; rm -rf $D; mkdir -p $D; cd $D
cat > cfg.yaml <<EOC
nats:
  url: nats://127.0.0.1:4444
http:
  listen: 127.0.0.1:9392
fetcher:
  allow_private_networks: true
feeds:
  - id: slow$PORT
    url: http://127.0.0.1:$PORT/feed.xml
    interval: 1h
EOC
python3 $HERE/site.py $PORT 5 3 > site.out 2>&1 & S=$!
sleep 1
$W/fetcher -config cfg.yaml > a.log 2>&1 & A=$!
sleep 1.5
kill -TERM $A; t0=$(date +%s.%N); wait $A; echo "A exit $? $(echo "$(date +%s.%N) - $t0" | bc)s after SIGTERM: $($W/probe nats://127.0.0.1:4444 news.articles.slow$PORT)"
$W/fetcher -config cfg.yaml > b.log 2>&1 & B=$!
t1=$(date +%s.%N)
for i in $(seq 1 300); do
  out=$($W/probe nats://127.0.0.1:4444 news.articles.slow$PORT)
  [ "${out%% *}" = "5" ] && break
  sleep 0.05
done
echo "B: $(echo "$(date +%s.%N) - $t1" | bc)s after its start: $out"
kill -TERM $B; wait $B; kill $S
echo "'page not extracted' logged $(cat a.log b.log | grep -c 'not extracted') times"
