#![doc = include_str!("../README.md")]

pub mod api;
mod clock;
mod error;
mod hub;
mod observer;
mod restored;
pub mod store;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

use omen_alert::{Adjustments, AlertConfig, CompiledAlerts, FiringState, Grouper};
use omen_core::Labels;
use omen_notify::{ChannelKind, Dispatcher, DispatcherHandle, NotifyConfig, NotifyStats, Outbox};

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{Error, Result};
pub use observer::AlertObserver;
pub use store::Store;

use hub::Hub;
use restored::Restored;

/// What the alert runtime is opened with: the validated settings' parts it reads, where its
/// files go, and the clock it runs on.
#[derive(Debug, Clone)]
pub struct RuntimeOptions<'a> {
    /// `[alert]`: rules, maintenance windows, grouping, actions.
    pub alert: &'a AlertConfig,
    /// `[notify]`: the channels and their safety rails.
    pub notify: &'a NotifyConfig,
    /// The URL people reach Omen at, for the links in alerts (no trailing slash needed).
    pub external_url: String,
    /// How often firing alerts are sent to Alertmanager again.
    pub resend_interval: Duration,
    /// How long a series may stay silent before it expires: restored alerts whose series has
    /// not come back by then are resolved.
    pub series_ttl: Duration,
    /// Where `alerts.db` and `outbox.db` are kept.
    pub data_dir: &'a Path,
    /// The clock every timer of the runtime reads.
    pub clock: Arc<dyn Clock>,
}

/// The running alert stage, less the observer (which the engine owns).
#[derive(Debug)]
pub struct AlertRuntime {
    rules: Arc<CompiledAlerts>,
    store: Arc<Mutex<Store>>,
    outbox: Outbox,
    stats: Arc<NotifyStats>,
    clock: Arc<dyn Clock>,
    stop: Arc<AtomicBool>,
    hub: Mutex<Option<JoinHandle<()>>>,
    dispatcher: Mutex<Option<DispatcherHandle>>,
}

impl AlertRuntime {
    /// Open the stores, restore what was firing, start the hub thread; the returned observer
    /// goes to the engine. The dispatcher starts with [`AlertRuntime::start_dispatcher`], on
    /// the async runtime.
    pub fn open(options: RuntimeOptions<'_>) -> Result<(Self, AlertObserver)> {
        let RuntimeOptions {
            alert,
            notify,
            external_url,
            resend_interval,
            series_ttl,
            data_dir,
            clock,
        } = options;
        let mut store = Store::open(&data_dir.join("alerts.db"))?;
        let adjustments = match store.adjustments()? {
            Some(saved) => Adjustments::restore(saved).map_err(|cause| Error::Rules {
                context: "the saved feedback adjustments are invalid",
                cause,
            })?,
            None => Adjustments::new(),
        };
        let rules = Arc::new(
            alert
                .validate()
                .map_err(|cause| Error::Rules {
                    context: "invalid setting",
                    cause,
                })?
                .with_adjustments(Arc::new(adjustments))
                .with_external_url(external_url.trim_end_matches('/')),
        );
        let stats = Arc::new(NotifyStats::new());
        let outbox = Outbox::open_with_stats(data_dir.join("outbox.db"), notify, stats.clone())
            .map_err(|cause| Error::Outbox {
                context: "cannot open the notification outbox",
                cause,
            })?;

        // What was firing at the last stop: back into the series' states (when they show up
        // again) and into the hub, so it is neither forgotten nor announced twice.
        let names = |kind| {
            notify
                .channels
                .iter()
                .filter(move |c| c.kind == kind)
                .map(|c| c.name.clone())
        };
        let mut webhooks: Vec<(String, Grouper)> = names(ChannelKind::Webhook)
            .map(|n| {
                let g = Grouper::new(&rules, &n);
                (n, g)
            })
            .collect();
        let mut restored: HashMap<Vec<u8>, Vec<FiringState>> = HashMap::new();
        let mut unclaimed = Vec::new();
        let mut firing = BTreeMap::new();
        for saved in store.active()? {
            let labels = Labels::from_pairs(&saved.series);
            restored
                .entry(labels.as_bytes().to_vec())
                .or_default()
                .push(saved.state);
            unclaimed.push((labels.as_bytes().to_vec(), saved.alert.fingerprint.clone()));
            for (_, grouper) in &mut webhooks {
                grouper.restore(saved.alert.clone(), saved.notified_at_ms);
            }
            firing.insert(saved.alert.fingerprint.clone(), saved.alert);
        }
        if !firing.is_empty() {
            tracing::info!(
                alerts = firing.len(),
                "restored the alerts firing at the last stop"
            );
        }
        store.save_adjustments(&rules.adjustments().save())?;
        let store = Arc::new(Mutex::new(store));
        let (events, received) = mpsc::channel();
        let restored = Arc::new(Restored::new(restored));
        let now = clock.now_ms();
        let hub = Hub {
            rules: rules.clone(),
            outbox: outbox.clone(),
            store: store.clone(),
            clock: clock.clone(),
            alertmanagers: names(ChannelKind::Alertmanager).collect(),
            webhooks,
            resend: resend_interval,
            active: firing,
            last_resend_ms: now,
            restored: restored.clone(),
            unclaimed,
            unclaimed_deadline_ms: now + series_ttl.as_millis() as i64,
        };
        let stop = Arc::new(AtomicBool::new(false));
        let hub_stop = stop.clone();
        let hub = std::thread::Builder::new()
            .name("omen-alerts".into())
            .spawn(move || hub.run(received, hub_stop))
            .map_err(|err| Error::Start(format!("cannot start the alert thread: {err}")))?;
        let observer = AlertObserver::new(rules.clone(), events, restored);
        Ok((
            Self {
                rules,
                store,
                outbox,
                stats,
                clock,
                stop,
                hub: Mutex::new(Some(hub)),
                dispatcher: Mutex::new(None),
            },
            observer,
        ))
    }

    /// The compiled rules, with the feedback adjustments they carry.
    pub fn rules(&self) -> &Arc<CompiledAlerts> {
        &self.rules
    }

    /// `alerts.db`: history, firing alerts, feedback, adjustments.
    pub fn store(&self) -> &Mutex<Store> {
        &self.store
    }

    /// The notification outbox.
    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    /// Counts of the notifications, per channel, for `/metrics`.
    pub fn stats(&self) -> &NotifyStats {
        &self.stats
    }

    /// The time now, on the runtime's clock.
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Start sending; call on the async runtime.
    pub fn start_dispatcher(&self) -> Result<()> {
        let client = omen_notify::client_builder().build().map_err(|err| {
            Error::Start(format!(
                "cannot build the HTTP client for notifications: {err}"
            ))
        })?;
        let handle = Dispatcher::spawn(self.outbox.clone(), client);
        *self
            .dispatcher
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(handle);
        Ok(())
    }

    /// After the engine has stopped: let the hub take the last events, then stop sending
    /// (what is undelivered stays in the outbox for the next start).
    pub async fn shutdown(&self) {
        self.stop.store(true, Ordering::Release);
        let hub = self
            .hub
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(hub) = hub {
            let _ = tokio::task::spawn_blocking(move || hub.join()).await;
        }
        let dispatcher = self
            .dispatcher
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(dispatcher) = dispatcher {
            dispatcher.shutdown().await;
        }
    }
}
