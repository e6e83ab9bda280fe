//! The benchmark's HTTP client.

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1::SendRequest;
use std::net::SocketAddr;

/// An HTTP/1.1 client on one keep-alive connection, opened again after an error.
pub struct Client {
    address: SocketAddr,
    sender: Option<SendRequest<Empty<Bytes>>>,
}

impl Client {
    pub fn new(address: SocketAddr) -> Client {
        Client {
            address,
            sender: None,
        }
    }

    pub async fn get(&mut self, path: &str) -> Result<(u16, Bytes), String> {
        let answer = self.try_get(path).await;
        if answer.is_err() {
            self.sender = None;
        }
        answer
    }

    async fn try_get(&mut self, path: &str) -> Result<(u16, Bytes), String> {
        if self.sender.is_none() {
            let stream = tokio::net::TcpStream::connect(self.address)
                .await
                .map_err(|e| format!("connect: {e}"))?;
            stream.set_nodelay(true).map_err(|e| e.to_string())?;
            let io = hyper_util::rt::TokioIo::new(stream);
            let (sender, connection) = hyper::client::conn::http1::handshake(io)
                .await
                .map_err(|e| format!("handshake: {e}"))?;
            tokio::spawn(connection);
            self.sender = Some(sender);
        }
        let sender = self.sender.as_mut().expect("connected");
        // HTTP/1.1 sends one request at a time: wait until the connection
        // has finished with the previous answer.
        sender
            .ready()
            .await
            .map_err(|e| format!("connection: {e:?}"))?;
        let request = hyper::Request::get(path)
            .header("host", self.address.to_string())
            .header("user-agent", "stackctl-bench")
            .body(Empty::new())
            .map_err(|e| e.to_string())?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| format!("request: {e:?}"))?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("body: {e}"))?
            .to_bytes();
        Ok((status, body))
    }
}
