// A counting HTTP proxy in front of Azurite, for bench/run.sh --rate-limits: every table operation the gateway makes
// passes through it and is counted by method. GET /__counts answers the counts as JSON (never forwarded).
//   node table-count-proxy.mjs <listen-port> <azurite-port>
import http from "node:http";

const [listenPort, targetPort] = process.argv.slice(2).map(Number);
const counts = { GET: 0, POST: 0, PUT: 0, MERGE: 0, PATCH: 0, DELETE: 0, other: 0, total: 0 };
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

http.createServer((req, res) => {
  if (req.url === "/__counts") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(counts));
    return;
  }
  counts[req.method in counts ? req.method : "other"]++;
  counts.total++;
  const upstream = http.request(
    { host: "127.0.0.1", port: targetPort, method: req.method, path: req.url, headers: req.headers, agent },
    (answer) => {
      res.writeHead(answer.statusCode, answer.headers);
      answer.pipe(res);
    });
  upstream.on("error", () => { res.writeHead(502); res.end(); });
  req.pipe(upstream);
}).listen(listenPort, "127.0.0.1");
