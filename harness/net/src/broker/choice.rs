//! `start_broker`: picks and starts a broker, and records why it was chosen.

use super::external::ExternalBroker;
use super::handle::{BrokerHandle, Inner};
use super::mosquitto::{find_binary, MosquittoBroker};
use super::{BrokerError, BrokerOptions};
use std::str::FromStr;

/// Which broker to use.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum BrokerChoice {
    /// Local mosquitto binary if present, else the container if Docker answers and the image
    /// can be had, else the embedded broker.
    #[default]
    Auto,
    /// A local mosquitto process.
    Mosquitto,
    /// The mosquitto container.
    Container,
    /// rumqttd in-process.
    Embedded,
    /// An external broker URL.
    Url(String),
}

impl FromStr for BrokerChoice {
    type Err = BrokerError;

    /// `auto`, `mosquitto`, `container`, `embedded`, or an `mqtt://` / `mqtts://` URL.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "auto" => BrokerChoice::Auto,
            "mosquitto" => BrokerChoice::Mosquitto,
            "container" => BrokerChoice::Container,
            "embedded" => BrokerChoice::Embedded,
            url if url.contains("://") => {
                ExternalBroker::parse(url)?;
                BrokerChoice::Url(url.into())
            }
            other => {
                return Err(BrokerError::BadUrl {
                    url: other.into(),
                    reason: "expected auto, mosquitto, container, embedded or mqtt[s]://host:port"
                        .into(),
                })
            }
        })
    }
}

/// Starts the chosen broker. [`BrokerHandle::describe`] and [`BrokerHandle::why`] say what was
/// started and why.
pub async fn start_broker(
    choice: BrokerChoice,
    opts: BrokerOptions,
) -> Result<BrokerHandle, BrokerError> {
    match choice {
        BrokerChoice::Mosquitto => {
            let b = MosquittoBroker::start(&opts).await?;
            Ok(BrokerHandle::from_mosquitto(b, "requested: mosquitto"))
        }
        BrokerChoice::Container => start_container(&opts, "requested: container".into()).await,
        BrokerChoice::Embedded => start_embedded(&opts, "requested: embedded".into()).await,
        BrokerChoice::Url(url) => Ok(BrokerHandle {
            inner: Inner::External(ExternalBroker::parse(&url)?),
            why: "requested: external URL".into(),
        }),
        BrokerChoice::Auto => {
            if let Some(bin) = find_binary() {
                let b = MosquittoBroker::start_with(bin.clone(), &opts).await?;
                return Ok(BrokerHandle::from_mosquitto(
                    b,
                    format!("auto: mosquitto binary found at {}", bin.display()),
                ));
            }
            #[cfg(feature = "containers")]
            let docker = match super::container::docker_available().await {
                Ok(()) => Ok(super::container::image_exists().await),
                Err(e) => Err(e.to_string()),
            };
            #[cfg(not(feature = "containers"))]
            let docker = Err("container support not compiled in".to_string());
            match decide_without_binary(docker) {
                AutoPick::Container(why) => start_container(&opts, why).await,
                AutoPick::Embedded(why) => start_embedded(&opts, why).await,
            }
        }
    }
}

/// What `auto` picks when there is no mosquitto binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AutoPick {
    /// The container, with the reason.
    Container(String),
    /// The embedded broker, with the reason.
    Embedded(String),
}

/// Decides between container and embedded from the Docker probe: `Ok(image_exists)` when the
/// daemon answers, `Err(one-line reason)` when it does not.
pub fn decide_without_binary(docker: Result<bool, String>) -> AutoPick {
    const NO_BIN: &str = "no mosquitto binary (PATH, /usr/sbin, $OVMS_HIL_MOSQUITTO)";
    match docker {
        Ok(true) => AutoPick::Container(format!(
            "auto: {NO_BIN}; Docker answers and the image exists"
        )),
        Ok(false) => AutoPick::Embedded(format!(
            "auto: {NO_BIN}; Docker answers but image ovms-hil-mosquitto:local is missing \
             (build it with ci/mosquitto-image/stage.sh --build)"
        )),
        Err(reason) => AutoPick::Embedded(format!("auto: {NO_BIN}; {reason}")),
    }
}

#[cfg(feature = "containers")]
async fn start_container(opts: &BrokerOptions, why: String) -> Result<BrokerHandle, BrokerError> {
    let b = super::container::ContainerBroker::start(opts).await?;
    Ok(BrokerHandle {
        inner: Inner::Container(Box::new(b)),
        why,
    })
}

#[cfg(not(feature = "containers"))]
async fn start_container(_: &BrokerOptions, _: String) -> Result<BrokerHandle, BrokerError> {
    Err(BrokerError::NotCompiled("container (feature `containers`)"))
}

#[cfg(feature = "embedded")]
async fn start_embedded(opts: &BrokerOptions, why: String) -> Result<BrokerHandle, BrokerError> {
    let b = super::embedded::EmbeddedBroker::start(opts).await?;
    Ok(BrokerHandle {
        inner: Inner::Embedded(b),
        why,
    })
}

#[cfg(not(feature = "embedded"))]
async fn start_embedded(_: &BrokerOptions, _: String) -> Result<BrokerHandle, BrokerError> {
    Err(BrokerError::NotCompiled("embedded (feature `embedded`)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_without_a_binary_explains_its_pick() {
        assert!(
            matches!(decide_without_binary(Ok(true)), AutoPick::Container(w) if w.contains("image exists"))
        );
        assert!(
            matches!(decide_without_binary(Ok(false)), AutoPick::Embedded(w) if w.contains("stage.sh --build"))
        );
        let AutoPick::Embedded(w) = decide_without_binary(Err(
            "docker: no Docker socket at /var/run/docker.sock".into(),
        )) else {
            panic!("must fall back to embedded");
        };
        assert!(
            w.starts_with("auto: no mosquitto binary")
                && w.ends_with("no Docker socket at /var/run/docker.sock"),
            "{w}"
        );
    }

    #[test]
    fn choices_parse() {
        assert_eq!(
            "container".parse::<BrokerChoice>().unwrap(),
            BrokerChoice::Container
        );
        assert_eq!(
            "mqtts://h:1?ca=/x".parse::<BrokerChoice>().unwrap(),
            BrokerChoice::Url("mqtts://h:1?ca=/x".into())
        );
        assert!("mosquito".parse::<BrokerChoice>().is_err());
    }
}
