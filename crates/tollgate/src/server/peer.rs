//! Tells every request which connection it came on: the TCP peer's address
//! (the client's, or a proxy's), as axum's `ConnectInfo` would, without
//! rebuilding the router for each connection.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::task::{Context, Poll};

use axum::http::Request;
use tollgate_http::PeerAddr;

/// The router, serving one connection whose peer is `peer`.
#[derive(Clone)]
pub(super) struct WithPeer {
    pub(super) router: axum::Router,
    pub(super) peer: SocketAddr,
    /// The connection came over TLS.
    pub(super) tls: bool,
}

impl<B> tower::Service<Request<B>> for WithPeer
where
    axum::Router: tower::Service<Request<B>, Response = axum::response::Response, Error = Infallible>,
{
    type Response = axum::response::Response;
    type Error = Infallible;
    type Future = <axum::Router as tower::Service<Request<B>>>::Future;

    fn poll_ready(&mut self, context: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        tower::Service::<Request<B>>::poll_ready(&mut self.router, context)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        request.extensions_mut().insert(PeerAddr(self.peer));
        if self.tls {
            request.extensions_mut().insert(tollgate_http::OverTls);
        }
        self.router.call(request)
    }
}
