package io.carousel.streams;

import io.carousel.config.CarouselConfig;
import io.carousel.scoring.ScoringConfig;
import java.nio.file.Path;
import java.util.List;

/**
 * The settings the per-event path reads, taken from the configuration once (the configuration's
 * accessors parse and validate on every call, which the hot path must not do).
 */
public record StreamSettings(
        String eventsTopic, String enrichedTopic, String forecastsTopic, String anomaliesTopic, String deadLetterTopic,
        String keyField, String timestampField, TimeFormat timestampFormat, List<String> features,
        int maxBytes, int maxKeyBytes, boolean outOfOrderToDeadLetter,
        int outputs, int hidden, int layers, long seed, Path modelInit, boolean timeDelta, boolean calendar,
        int horizon, ScoringConfig scoring, RetrainSettings retrain, Scope scope, String groupField,
        java.util.regex.Pattern groupPattern, String modelsTopic, String controlTopic, boolean baseline,
        double gateHalfLife, boolean changeTarget, boolean seasonal, boolean smoothing) {

    /** Which keys share a model: each its own, groups of keys, or all keys. */
    public enum Scope { KEY, GROUP, GLOBAL }

    /** Where an event's time comes from when its timestamp field is a number or string. */
    public enum TimeFormat { AUTO, ISO, MILLIS, SECONDS, RECORD }

    public StreamSettings {
        features = List.copyOf(features);
        if (outputs > features.size()) {
            throw new IllegalArgumentException("config key model.outputs: " + outputs + " exceeds the "
                    + features.size() + " features of events.features");
        }
    }

    public static StreamSettings from(CarouselConfig c) {
        return new StreamSettings(c.topicEvents(), c.topicEnriched(), c.topicForecasts(), c.topicAnomalies(),
                c.topicDeadLetter(), c.eventsKeyField().orElse(null), c.eventsTimestampField().orElse(null),
                TimeFormat.valueOf(c.eventsTimestampFormat().name()), c.eventsFeatures(), c.eventsMaxBytes(),
                c.eventsMaxKeyBytes(), c.eventsOutOfOrder() == CarouselConfig.OutOfOrder.DEAD_LETTER,
                c.modelOutputs(), c.modelHidden(), c.modelLayers(), c.modelSeed(), c.modelInit().orElse(null),
                c.modelFeaturesTimeDelta(), c.modelFeaturesCalendar(), c.forecastHorizon(), c.scoringConfig(),
                RetrainSettings.from(c, false), Scope.valueOf(c.modelScope().name()),
                c.modelGroupField().orElse(null), c.modelGroupPattern().orElse(null), c.topicModels(), c.topicControl(), false,
                c.forecastGateHalfLife(), c.modelTarget() == CarouselConfig.ModelTarget.CHANGE,
                c.forecastSeasonal(), c.forecastSmoothing());
    }

    /**
     * The same settings with training run synchronously where the schedule says (backtest and
     * TopologyTestDriver), so results do not depend on thread timing.
     */
    public StreamSettings withSynchronousTraining() {
        RetrainSettings r = retrain;
        return new StreamSettings(eventsTopic, enrichedTopic, forecastsTopic, anomaliesTopic, deadLetterTopic, keyField,
                timestampField, timestampFormat, features, maxBytes, maxKeyBytes, outOfOrderToDeadLetter, outputs, hidden,
                layers, seed, modelInit, timeDelta, calendar, horizon, scoring,
                new RetrainSettings(r.everyEvents(), r.intervalMs(), r.wallClock(), r.scratch(), r.epochs(), r.seqLen(),
                        r.batch(), r.lr(), r.clip(), r.maxRegression(), r.threads(), r.drift(), r.excludeAnomalies(),
                        r.historyMaxEvents(), r.historyRetentionMs(), true, r.loss()),
                scope, groupField, groupPattern, modelsTopic, controlTopic, baseline, gateHalfLife, changeTarget, seasonal, smoothing);
    }

    /**
     * The benchmarks' baseline: the same settings with the LSTM step replaced by a no-op (parsing,
     * serdes, store reads and writes, scoring and outputs unchanged; the forecast is persistence),
     * so that the LSTM's share of the cost can be measured. Never set by configuration.
     */
    public StreamSettings withoutLstm() {
        return new StreamSettings(eventsTopic, enrichedTopic, forecastsTopic, anomaliesTopic, deadLetterTopic, keyField,
                timestampField, timestampFormat, features, maxBytes, maxKeyBytes, outOfOrderToDeadLetter, outputs, hidden,
                layers, seed, modelInit, timeDelta, calendar, horizon, scoring, retrain, scope, groupField, groupPattern,
                modelsTopic, controlTopic, true, gateHalfLife, changeTarget, seasonal, smoothing);
    }

    /** The anomaly threshold (anomaly.threshold). */
    public double threshold() {
        return scoring.threshold();
    }

    /** Features per event (D of the raw event). */
    public int featureCount() {
        return features.size();
    }

    /**
     * The LSTM's input width: with model.target=change the targets' last changes first, then the
     * normalised features, then time since the previous event, then calendar sin/cos.
     */
    public int modelInputs() {
        return (changeTarget ? outputs : 0) + features.size() + (timeDelta ? 1 : 0) + (calendar ? 4 : 0);
    }
}
