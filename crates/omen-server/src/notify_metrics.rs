//! The notification counters on `/metrics`: what the outbox took, sent, retried, gave up on
//! and suppressed, per channel (a handful, named in the config; never per alert or key).

use omen_notify::NotifyStatsSnapshot;

use super::exposition::{write_gauge_header, write_sample};

/// Append the `omen_notifications_*` families.
pub(crate) fn render(out: &mut String, stats: &NotifyStatsSnapshot) {
    type PerChannel = (
        &'static str,
        &'static str,
        fn(&omen_notify::ChannelCounts) -> u64,
    );
    const FAMILIES: [PerChannel; 6] = [
        (
            "omen_notifications_queued",
            "Notifications put in the outbox.",
            |c| c.queued,
        ),
        (
            "omen_notifications_delivered",
            "Notifications the target accepted (2xx).",
            |c| c.delivered,
        ),
        (
            "omen_notifications_retried",
            "Attempts that failed and will be retried (5xx, 408, 429, timeouts, connection and TLS errors).",
            |c| c.retried,
        ),
        (
            "omen_notifications_dead_lettered",
            "Notifications given up on (4xx, or past give_up_after); listed at /api/v1/notifications/dead-letters.",
            |c| c.dead_lettered,
        ),
        (
            "omen_notifications_suppressed",
            "Notifications held back by a cooldown, rate limit or the hourly cap on actions.",
            |c| c.suppressed,
        ),
        (
            "omen_notifications_dry_run",
            "Notifications logged instead of sent (dry run).",
            |c| c.dry_run,
        ),
    ];
    for (name, help, value) in FAMILIES {
        out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} counter\n"));
        for (channel, counts) in &stats.channels {
            write_sample(
                out,
                &format!("{name}_total"),
                [("channel", channel.as_str())],
                value(counts) as f64,
            );
        }
    }
    out.push_str("# HELP omen_notification_failures Failed attempts, by kind.\n# TYPE omen_notification_failures counter\n");
    for (kind, n) in stats.failures {
        write_sample(
            out,
            "omen_notification_failures_total",
            [("kind", kind)],
            n as f64,
        );
    }
    write_gauge_header(
        out,
        "omen_notifications_pending",
        "Notifications in the outbox not delivered yet.",
    );
    write_sample(out, "omen_notifications_pending", [], stats.pending as f64);
    write_gauge_header(
        out,
        "omen_notifications_oldest_pending_seconds",
        "Age of the oldest undelivered notification (0 when none).",
    );
    let age = stats.oldest_pending_age.map_or(0.0, |a| a.as_secs_f64());
    write_sample(out, "omen_notifications_oldest_pending_seconds", [], age);
}
