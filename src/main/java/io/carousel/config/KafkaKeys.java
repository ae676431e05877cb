package io.carousel.config;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.streams.StreamsConfig;

/** Which keys Kafka Streams and its clients understand, so that a misspelt key is caught at load. */
final class KafkaKeys {
    /**
     * Prefixes Kafka Streams routes to one kind of client. Any suffix is accepted under them: that
     * is where settings of client plugins (serializers, interceptors, login callbacks) belong,
     * names Kafka cannot know.
     */
    static final List<String> CLIENT_PREFIXES = List.of(
            StreamsConfig.PRODUCER_PREFIX, StreamsConfig.CONSUMER_PREFIX, StreamsConfig.ADMIN_CLIENT_PREFIX,
            StreamsConfig.MAIN_CONSUMER_PREFIX, StreamsConfig.RESTORE_CONSUMER_PREFIX,
            StreamsConfig.GLOBAL_CONSUMER_PREFIX);

    /** Streams' prefix for settings of its internal topics; Carousel's topic.* keys share it. */
    static final String TOPIC_PREFIX = StreamsConfig.TOPIC_PREFIX;

    static final Set<String> NAMES;
    static final Set<String> TOPIC_NAMES;

    static {
        Set<String> names = new HashSet<>(StreamsConfig.configDef().names());
        names.addAll(ProducerConfig.configNames());
        names.addAll(ConsumerConfig.configNames());
        names.addAll(AdminClientConfig.configNames());
        NAMES = Set.copyOf(names);
        TOPIC_NAMES = topicConfigNames();
    }

    private KafkaKeys() {
    }

    static boolean isKafkaKey(String key) {
        if (NAMES.contains(key)) {
            return true;
        }
        if (key.startsWith(TOPIC_PREFIX)) {
            // checked, unlike the client prefixes: a misspelt topic.events must not pass as a topic setting
            return TOPIC_NAMES.contains(key.substring(TOPIC_PREFIX.length()));
        }
        for (String prefix : CLIENT_PREFIXES) {
            if (key.startsWith(prefix) && key.length() > prefix.length()) {
                return true;
            }
        }
        return false;
    }

    /** TopicConfig has no name list, only its XXX_CONFIG constants. */
    private static Set<String> topicConfigNames() {
        Set<String> names = new HashSet<>();
        for (Field f : TopicConfig.class.getFields()) {
            if (Modifier.isStatic(f.getModifiers()) && f.getType() == String.class && f.getName().endsWith("_CONFIG")) {
                try {
                    names.add((String) f.get(null));
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
        return Set.copyOf(names);
    }

    /** The candidate nearest to {@code key} if it is close enough to be what was meant, else null. */
    static String closest(String key, Collection<String> candidates) {
        String best = null;
        int bestDistance = Math.max(1, Math.min(3, key.length() / 4)) + 1;
        for (String c : candidates) {
            int d = distance(key, c, bestDistance);
            if (d < bestDistance) {
                best = c;
                bestDistance = d;
            }
        }
        return best;
    }

    /** Levenshtein distance, giving up (returning limit) once it cannot be below limit. */
    private static int distance(String a, String b, int limit) {
        if (Math.abs(a.length() - b.length()) >= limit) {
            return limit;
        }
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            int rowMin = cur[0];
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
                rowMin = Math.min(rowMin, cur[j]);
            }
            if (rowMin >= limit) {
                return limit;
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
