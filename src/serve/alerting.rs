//! The alert stage of `omen serve`: rules run in the shards ([`observer`]), transitions go to
//! one hub thread ([`hub`]) that records them ([`store`]) and puts notifications in the
//! durable outbox (`omen_notify`), whose dispatcher sends them on the async runtime. The
//! feedback and history API is in [`api`].
//!
//! Files in the data directory: `alerts.db` (history, firing alerts, feedback, adjustments)
//! and `outbox.db` (every notification until delivered, the dead letters, the audit log).

pub(crate) mod api;
mod hub;
mod observer;
pub(crate) mod store;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;

use anyhow::{Context, Result};
use omen_alert::{Adjustments, CompiledAlerts, FiringState, Grouper};
use omen_engine::live::Labels;
use omen_notify::{ChannelKind, Dispatcher, DispatcherHandle, NotifyStats, Outbox};

use crate::config::Config;
use hub::Hub;
pub(crate) use observer::AlertObserver;
use observer::Restored;
use store::Store;

/// The running alert stage, less the observer (which the engine owns).
#[derive(Debug)]
pub(crate) struct Alerting {
    pub(crate) rules: Arc<CompiledAlerts>,
    pub(crate) store: Arc<Mutex<Store>>,
    pub(crate) outbox: Outbox,
    pub(crate) stats: Arc<NotifyStats>,
    stop: Arc<AtomicBool>,
    hub: Mutex<Option<JoinHandle<()>>>,
    dispatcher: Mutex<Option<DispatcherHandle>>,
}

impl Alerting {
    /// Open the stores, restore what was firing, start the hub thread; the returned observer
    /// goes to the engine. The dispatcher starts with [`Alerting::start_dispatcher`], on the
    /// runtime.
    pub(crate) fn open(config: &Config, data_dir: &Path) -> Result<(Self, AlertObserver)> {
        let server = &config.server;
        let external = server
            .external_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", server.listen));
        let mut store = Store::open(&data_dir.join("alerts.db"))?;
        let adjustments = match store.adjustments()? {
            Some(saved) => {
                Adjustments::restore(saved).context("the saved feedback adjustments are invalid")?
            }
            None => Adjustments::new(),
        };
        let rules = Arc::new(
            config
                .alert
                .validate()?
                .with_adjustments(Arc::new(adjustments))
                .with_external_url(external.trim_end_matches('/')),
        );
        let stats = Arc::new(NotifyStats::new());
        let outbox =
            Outbox::open_with_stats(data_dir.join("outbox.db"), &config.notify, stats.clone())
                .context("cannot open the notification outbox")?;

        // What was firing at the last stop: back into the series' states (when they show up
        // again) and into the hub, so it is neither forgotten nor announced twice.
        let active = store.active()?;
        let mut restored: HashMap<Vec<u8>, Vec<FiringState>> = HashMap::new();
        let mut unclaimed = Vec::new();
        let mut firing = BTreeMap::new();
        let names = |kind| {
            config
                .notify
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
        for saved in active {
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
        let ttl_ms = config.live.series_ttl.as_millis() as i64;
        let hub = Hub {
            rules: rules.clone(),
            outbox: outbox.clone(),
            store: store.clone(),
            alertmanagers: names(ChannelKind::Alertmanager).collect(),
            webhooks,
            resend: server.alert_resend_interval,
            active: firing,
            last_resend_ms: omen_notify::now_ms(),
            restored: restored.clone(),
            unclaimed,
            unclaimed_deadline_ms: omen_notify::now_ms() + ttl_ms,
        };
        let stop = Arc::new(AtomicBool::new(false));
        let hub_stop = stop.clone();
        let hub = std::thread::Builder::new()
            .name("omen-alerts".into())
            .spawn(move || hub.run(received, hub_stop))
            .context("cannot start the alert thread")?;
        let observer = AlertObserver::new(rules.clone(), events, restored);
        Ok((
            Self {
                rules,
                store,
                outbox,
                stats,
                stop,
                hub: Mutex::new(Some(hub)),
                dispatcher: Mutex::new(None),
            },
            observer,
        ))
    }

    /// Start sending; call on the async runtime.
    pub(crate) fn start_dispatcher(&self) -> Result<()> {
        let client = omen_notify::client_builder()
            .build()
            .context("cannot build the HTTP client for notifications")?;
        let handle = Dispatcher::spawn(self.outbox.clone(), client);
        *self
            .dispatcher
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(handle);
        Ok(())
    }

    /// After the engine has stopped: let the hub take the last events, then stop sending
    /// (what is undelivered stays in the outbox for the next start).
    pub(crate) async fn shutdown(&self) {
        self.stop.store(true, Ordering::Release);
        let hub = self
            .hub
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(hub) = hub {
            let _ = tokio::task::spawn_blocking(move || hub.join()).await;
        }
        let dispatcher = self
            .dispatcher
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(dispatcher) = dispatcher {
            dispatcher.shutdown().await;
        }
    }
}
