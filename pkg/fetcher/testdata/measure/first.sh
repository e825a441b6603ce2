#!/bin/bash
# #11: a feed lists 60 new pages on one host, default politeness: when is the first article on ARTICLES?
set -u
W=${W:-/tmp/nwmeasure}
HERE=$(cd "$(dirname "$0")" && pwd)
PORT=$1; D=$W/first-$PORT; rm -rf $D; mkdir -p $D; cd $D
cat > cfg.yaml <<EOC
nats:
  url: nats://127.0.0.1:4444
http:
  listen: 127.0.0.1:9396
fetcher:
  allow_private_networks: true
feeds:
  - id: first$PORT
    url: http://127.0.0.1:$PORT/feed.xml
    interval: 1h
EOC
python3 $HERE/site.py $PORT 60 > site.out 2>&1 & S=$!
sleep 1
$W/fetcher -config cfg.yaml > f.log 2>&1 & F=$!
first=
for i in $(seq 1 2000); do
  out=$($W/probe nats://127.0.0.1:4444 news.articles.first$PORT 2>/dev/null)
  n=${out%% *}
  if [ -n "$n" ] && [ "$n" != "0" ] && [ -z "$first" ]; then first=$(date +%s.%N); fi
  [ "$n" = "60" ] && break
  sleep 0.02
done
last=$(date +%s.%N)
feed=$(awk '/feed.xml/ {print $1; exit}' site.log)
echo "first article $(echo "$first - $feed" | bc)s after the feed request; all 60 $(echo "$last - $feed" | bc)s after; $out"
kill -TERM $F; wait $F; kill $S
