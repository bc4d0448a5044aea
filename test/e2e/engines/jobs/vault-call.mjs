// One Vault HTTP call from inside a job container (node:http, no client
// library): what the job scripts use to write and read a secret.
import { request } from "node:http";

export function vault(method, url, token, body) {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: { "X-Vault-Token": token } }, (res) => {
      let text = "";
      res.on("data", (chunk) => {
        text += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode, body: text ? JSON.parse(text) : {} }));
    });
    req.on("error", reject);
    req.end(body ? JSON.stringify(body) : undefined);
  });
}
