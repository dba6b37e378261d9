//! Brokers (mosquitto process, container, embedded, URL), the MQTT wire tap, the observer and the capture file
