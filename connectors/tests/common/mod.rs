//! A minimal signing client the integration tests share (the full exchange
//! client is connectors' own; this one exercises the venue from outside).
#![allow(dead_code)]

use connectors::hyperliquid::actions::Action;
use connectors::hyperliquid::keys::address_of;
use connectors::hyperliquid::signing::{l1_digest, sign_digest};
use connectors::sim::RunningVenue;
use serde_json::{Value, json};

pub fn key(n: u8) -> [u8; 32] {
    let mut k = [0x11u8; 32];
    k[31] = n;
    k
}

pub struct Trader {
    pub http: reqwest::Client,
    pub base: String,
    pub key: [u8; 32],
    pub address: String,
    pub nonce: u64,
}

impl Trader {
    pub fn new(v: &RunningVenue, key: [u8; 32]) -> Trader {
        connectors::install_tls_provider();
        let address = format!("0x{}", hex::encode(address_of(&key).unwrap()));
        Trader { http: reqwest::Client::new(), base: v.http_url(), key, address, nonce: v.venue.now_ms() }
    }

    pub fn next_nonce(&mut self) -> u64 {
        self.nonce += 1;
        self.nonce
    }

    pub fn body(&self, action: &Action, nonce: u64) -> Value {
        let digest = l1_digest(action, nonce, None, None, true).unwrap();
        let sig = sign_digest(&self.key, &digest).unwrap();
        json!({"action": action, "nonce": nonce, "signature": sig, "vaultAddress": null, "expiresAfter": null})
    }

    pub async fn post(&self, body: &Value) -> Value {
        let r = self.http.post(format!("{}/exchange", self.base)).json(body).send().await.unwrap();
        assert_eq!(r.status(), 200);
        r.json().await.unwrap()
    }

    pub async fn send(&mut self, action: Action) -> Value {
        let nonce = self.next_nonce();
        let body = self.body(&action, nonce);
        self.post(&body).await
    }

    pub async fn info(&self, body: Value) -> Value {
        info(&self.base, body).await
    }

    pub async fn mid(&self, coin: &str) -> f64 {
        self.info(json!({"type": "allMids"})).await[coin].as_str().unwrap().parse().unwrap()
    }

    pub async fn advance(&self, by_ms: u64) {
        let now: Value = self.http.get(format!("{}/sim/time", self.base)).send().await.unwrap().json().await.unwrap();
        let to = now["time_ms"].as_u64().unwrap() + by_ms;
        let r = self.http.post(format!("{}/sim/advance", self.base)).json(&json!({"to_ms": to})).send().await.unwrap();
        assert_eq!(r.status(), 200);
    }

    pub async fn position(&self, coin: &str) -> f64 {
        let s = self.info(json!({"type": "clearinghouseState", "user": self.address})).await;
        s["assetPositions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["position"]["coin"] == coin)
            .map(|p| p["position"]["szi"].as_str().unwrap().parse().unwrap())
            .unwrap_or(0.0)
    }
}

/// `POST /info` on the venue at `base`, its JSON answer.
pub async fn info(base: &str, body: Value) -> Value {
    reqwest::Client::new().post(format!("{base}/info")).json(&body).send().await.unwrap().json().await.unwrap()
}
