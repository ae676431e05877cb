package io.carousel.kafka;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.errors.TopicExistsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Idempotent topic creation, for the embedded broker and for external clusters alike.
 * A topic that already exists is left as it is: adding partitions to a live topic would move
 * keys to other partitions, away from their state. A differing partition count is only warned about.
 */
public final class Topics {
    private static final Logger LOG = LoggerFactory.getLogger(Topics.class);
    private static final long TIMEOUT_SECONDS = 60;

    private Topics() {
    }

    /**
     * Creates each topic of {@code partitions} (name to partition count) that does not exist yet,
     * with {@code replicationFactor} and the same {@code configs} (e.g. cleanup.policy) for all.
     *
     * @throws IllegalStateException with a one-line message if the brokers refuse or do not answer
     */
    public static void ensure(Admin admin, Map<String, Integer> partitions, short replicationFactor,
                              Map<String, String> configs) {
        List<NewTopic> topics = new ArrayList<>();
        partitions.forEach((name, count) -> {
            if (count == null || count < 1) {
                throw new IllegalArgumentException("topic " + name + ": partitions must be >= 1, got " + count);
            }
            topics.add(new NewTopic(name, count, replicationFactor).configs(configs == null ? Map.of() : configs));
        });
        if (topics.isEmpty()) {
            return;
        }
        List<String> existing = new ArrayList<>();
        for (Map.Entry<String, KafkaFuture<Void>> result : admin.createTopics(topics).values().entrySet()) {
            try {
                await(result.getValue(), "create topic " + result.getKey());
            } catch (TopicExistsException e) {
                existing.add(result.getKey());
            }
        }
        if (!existing.isEmpty()) {
            warnOnPartitionMismatch(admin, partitions, existing);
        }
    }

    /** The partition count of an existing topic (one just created may take the brokers a moment to describe). */
    public static int partitions(Admin admin, String topic) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
        while (true) {
            try {
                return await(admin.describeTopics(List.of(topic)).allTopicNames(), "describe topic " + topic)
                        .get(topic).partitions().size();
            } catch (IllegalStateException e) {
                if (!(e.getCause() instanceof org.apache.kafka.common.errors.UnknownTopicOrPartitionException)
                        || System.nanoTime() > deadline) {
                    throw e;
                }
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while trying to describe topic " + topic, e);
            }
        }
    }

    private static void warnOnPartitionMismatch(Admin admin, Map<String, Integer> wanted, List<String> names) {
        Map<String, TopicDescription> found = await(admin.describeTopics(names).allTopicNames(), "describe topics " + names);
        found.forEach((name, description) -> {
            int actual = description.partitions().size();
            if (actual != wanted.get(name)) {
                LOG.warn("topic {} exists with {} partitions, not {}; it is used as it is", name, actual, wanted.get(name));
            }
        });
    }

    /** Waits for an admin result; a TopicExistsException is rethrown as such, anything else as one line. */
    private static <T> T await(KafkaFuture<T> future, String what) {
        try {
            return future.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof TopicExistsException exists) {
                throw exists;
            }
            throw new IllegalStateException("cannot " + what + ": " + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("cannot " + what + ": no answer from the brokers within "
                    + TIMEOUT_SECONDS + " s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while trying to " + what, e);
        }
    }
}
