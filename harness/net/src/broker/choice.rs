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
            let no_bin = "no mosquitto binary (PATH, /usr/sbin, $OVMS_HIL_MOSQUITTO)";
            #[cfg(feature = "containers")]
            let docker_reason = match super::container::docker_available().await {
                Ok(()) if super::container::image_exists().await => {
                    return start_container(
                        &opts,
                        format!("auto: {no_bin}; Docker answers and the image exists"),
                    )
                    .await;
                }
                Ok(()) => format!(
                    "Docker answers but image {}:{} is missing (build it with ci/mosquitto-image/stage.sh --build)",
                    super::container::IMAGE_NAME,
                    super::container::IMAGE_TAG
                ),
                Err(e) => e.to_string(),
            };
            #[cfg(not(feature = "containers"))]
            let docker_reason = "container support not compiled in".to_string();
            start_embedded(&opts, format!("auto: {no_bin}; {docker_reason}")).await
        }
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
