package io.carousel.config;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The names of Carousel's own configuration keys and their defaults. Every other key is a Kafka
 * setting handed to Kafka Streams under its own name. config/application.properties documents
 * each key; keep the two in step (a test checks that the file names every key).
 */
public final class ConfigKeys {
    private ConfigKeys() {
    }

    // topics
    public static final String TOPIC_EVENTS = "topic.events";
    public static final String TOPIC_ENRICHED = "topic.enriched";
    public static final String TOPIC_FORECASTS = "topic.forecasts";
    public static final String TOPIC_ANOMALIES = "topic.anomalies";
    public static final String TOPIC_DEAD_LETTER = "topic.dead-letter";
    public static final String TOPIC_MODELS = "topic.models";
    public static final String TOPIC_CONTROL = "topic.control";
    public static final String TOPIC_PARTITIONS = "topic.partitions";
    public static final String TOPIC_REPLICATION = "topic.replication";

    // the embedded broker (used when bootstrap.servers is empty)
    public static final String EMBEDDED_PORT = "embedded.port";
    public static final String EMBEDDED_CONTROLLER_PORT = "embedded.controller-port";
    public static final String EMBEDDED_DIR = "embedded.dir";

    // reading events
    public static final String EVENTS_KEY_FIELD = "events.key.field";
    public static final String EVENTS_TIMESTAMP_FIELD = "events.timestamp.field";
    public static final String EVENTS_TIMESTAMP_FORMAT = "events.timestamp.format";
    public static final String EVENTS_FEATURES = "events.features";
    public static final String EVENTS_OUT_OF_ORDER = "events.out-of-order";
    public static final String EVENTS_MAX_BYTES = "events.max-bytes";
    public static final String EVENTS_MAX_KEY_BYTES = "events.max-key-bytes";

    // the model
    public static final String MODEL_HIDDEN = "model.hidden";
    public static final String MODEL_LAYERS = "model.layers";
    public static final String MODEL_SEED = "model.seed";
    public static final String MODEL_INIT = "model.init";
    public static final String MODEL_FEATURES_TIME_DELTA = "model.features.time-delta";
    public static final String MODEL_FEATURES_CALENDAR = "model.features.calendar";
    public static final String MODEL_OUTPUTS = "model.outputs";
    public static final String MODEL_TARGET = "model.target";
    public static final String MODEL_SCOPE = "model.scope";
    public static final String MODEL_GROUP_FIELD = "model.group.field";
    public static final String MODEL_GROUP_PATTERN = "model.group.pattern";

    // forecasting and scoring
    public static final String FORECAST_HORIZON = "forecast.horizon";
    public static final String FORECAST_GATE_HALF_LIFE = "forecast.gate.half-life";
    public static final String FORECAST_SEASONAL = "forecast.seasonal";
    public static final String FORECAST_SMOOTHING = "forecast.smoothing";
    public static final String ANOMALY_THRESHOLD = "anomaly.threshold";
    public static final String ANOMALY_WARMUP_EVENTS = "anomaly.warmup-events";
    public static final String ANOMALY_SHORT_HALF_LIFE = "anomaly.short-half-life";
    public static final String ANOMALY_SCALE_HALF_LIFE = "anomaly.scale-half-life";
    public static final String ANOMALY_LONG_HALF_LIFE = "anomaly.long-half-life";
    public static final String ANOMALY_INTERVAL_COVERAGE = "anomaly.interval-coverage";

    // history and retraining
    public static final String HISTORY_RETENTION = "history.retention";
    public static final String HISTORY_MAX_EVENTS = "history.max-events";
    public static final String RETRAIN_EVERY_EVENTS = "retrain.every-events";
    public static final String RETRAIN_INTERVAL = "retrain.interval";
    public static final String RETRAIN_CLOCK = "retrain.clock";
    public static final String RETRAIN_MODE = "retrain.mode";
    public static final String RETRAIN_EPOCHS = "retrain.epochs";
    public static final String RETRAIN_SEQ_LEN = "retrain.seq-len";
    public static final String RETRAIN_BATCH = "retrain.batch";
    public static final String RETRAIN_LR = "retrain.lr";
    public static final String RETRAIN_CLIP = "retrain.clip";
    public static final String RETRAIN_MAX_REGRESSION = "retrain.max-regression";
    public static final String RETRAIN_THREADS = "retrain.threads";
    public static final String RETRAIN_DRIFT = "retrain.drift";
    public static final String TRAINING_EXCLUDE_ANOMALIES = "training.exclude-anomalies";
    public static final String TRAINING_LOSS = "training.loss";

    // the HTTP surface
    public static final String HTTP_PORT = "http.port";
    public static final String HTTP_HOST = "http.host";
    public static final String HTTP_TOKEN = "http.token";
    public static final String HTTP_INSECURE = "http.insecure";
    public static final String HTTP_ADVERTISED_HOST = "http.advertised-host";

    /** Every Carousel key with its default, in the order of config/application.properties. */
    public static final Map<String, String> DEFAULTS;

    static {
        Map<String, String> d = new LinkedHashMap<>();
        d.put(TOPIC_EVENTS, "carousel.events");
        d.put(TOPIC_ENRICHED, "carousel.enriched");
        d.put(TOPIC_FORECASTS, "carousel.forecasts");
        d.put(TOPIC_ANOMALIES, "carousel.anomalies");
        d.put(TOPIC_DEAD_LETTER, "carousel.dead-letter");
        d.put(TOPIC_MODELS, "carousel.models");
        d.put(TOPIC_CONTROL, "carousel.control");
        d.put(TOPIC_PARTITIONS, "4");
        d.put(TOPIC_REPLICATION, "1");
        d.put(EMBEDDED_PORT, "9092");
        d.put(EMBEDDED_CONTROLLER_PORT, "0");
        d.put(EMBEDDED_DIR, "data/kafka");
        d.put(EVENTS_KEY_FIELD, "");
        d.put(EVENTS_TIMESTAMP_FIELD, "timestamp");
        d.put(EVENTS_TIMESTAMP_FORMAT, "auto");
        d.put(EVENTS_FEATURES, "/value");
        d.put(EVENTS_OUT_OF_ORDER, "process");
        d.put(EVENTS_MAX_BYTES, "1048576");
        d.put(EVENTS_MAX_KEY_BYTES, "1024");
        d.put(MODEL_HIDDEN, "32");
        d.put(MODEL_LAYERS, "1");
        d.put(MODEL_SEED, "42");
        d.put(MODEL_INIT, "");
        d.put(MODEL_FEATURES_TIME_DELTA, "false");
        d.put(MODEL_FEATURES_CALENDAR, "false");
        d.put(MODEL_OUTPUTS, "1");
        d.put(MODEL_TARGET, "level");
        d.put(MODEL_SCOPE, "key");
        d.put(MODEL_GROUP_FIELD, "");
        d.put(MODEL_GROUP_PATTERN, "");
        d.put(FORECAST_HORIZON, "1");
        d.put(FORECAST_GATE_HALF_LIFE, "200");
        d.put(FORECAST_SEASONAL, "true");
        d.put(FORECAST_SMOOTHING, "true");
        d.put(ANOMALY_THRESHOLD, "0.9999");
        d.put(ANOMALY_WARMUP_EVENTS, "300");
        d.put(ANOMALY_SHORT_HALF_LIFE, "3.5");
        d.put(ANOMALY_SCALE_HALF_LIFE, "50");
        d.put(ANOMALY_LONG_HALF_LIFE, "3000");
        d.put(ANOMALY_INTERVAL_COVERAGE, "0.95");
        d.put(HISTORY_RETENTION, "P7D");
        d.put(HISTORY_MAX_EVENTS, "2000");
        d.put(RETRAIN_EVERY_EVENTS, "500");
        d.put(RETRAIN_INTERVAL, "0");
        d.put(RETRAIN_CLOCK, "stream");
        d.put(RETRAIN_MODE, "finetune");
        d.put(RETRAIN_EPOCHS, "30");
        d.put(RETRAIN_SEQ_LEN, "64");
        d.put(RETRAIN_BATCH, "16");
        d.put(RETRAIN_LR, "0.01");
        d.put(RETRAIN_CLIP, "1.0");
        d.put(RETRAIN_MAX_REGRESSION, "0.1");
        d.put(RETRAIN_THREADS, "1");
        d.put(RETRAIN_DRIFT, "true");
        d.put(TRAINING_EXCLUDE_ANOMALIES, "true");
        d.put(TRAINING_LOSS, "huber");
        d.put(HTTP_PORT, "8080");
        d.put(HTTP_HOST, "127.0.0.1");
        d.put(HTTP_TOKEN, "");
        d.put(HTTP_INSECURE, "false");
        d.put(HTTP_ADVERTISED_HOST, "");
        DEFAULTS = Collections.unmodifiableMap(d);
    }

    /** Prefixes of Carousel's namespaces: an unknown key under one of them is a typo, never a Kafka setting. */
    static final String[] NAMESPACES = {
        "topic.", "embedded.", "events.", "model.", "forecast.", "anomaly.", "history.", "retrain.", "training.", "http.",
    };
}
