//! The two adapters a request test runs on: actix-web's `RequireAuth` (the `api` binary itself)
//! and the tower layer (the same routes and authenticator, served by axum). One test body,
//! named in [`on_both_adapters!`](crate::on_both_adapters), runs on each; the spawn
//! functions read which one from here.

use std::cell::Cell;
use std::future::Future;

/// A framework adapter of the `auth` library.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Adapter {
    /// actix-web's middleware, in the `api` binary.
    Actix,
    /// The tower layer, on axum.
    Tower,
}

thread_local! {
    /// The adapter of the test running on this thread (actix tests run on one thread).
    static CURRENT: Cell<Adapter> = const { Cell::new(Adapter::Actix) };
}

/// The adapter the running test serves its routes with.
pub fn current() -> Adapter {
    CURRENT.get()
}

/// Runs `test` with its servers on `adapter`.
pub async fn run(adapter: Adapter, test: impl Future<Output = ()>) {
    CURRENT.set(adapter);
    test.await;
}

/// Runs each named `async fn` (a test body, written once) on both adapters, as the tests
/// `name::actix` and `name::tower`. A body left out of the list is dead code, which the lints
/// refuse; a test that holds on one adapter only is a defect in the other.
#[macro_export]
macro_rules! on_both_adapters {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[actix_web::test]
            async fn actix() {
                $crate::adapter::run($crate::Adapter::Actix, super::$name()).await;
            }

            #[actix_web::test]
            async fn tower() {
                $crate::adapter::run($crate::Adapter::Tower, super::$name()).await;
            }
        }
    )*};
}
