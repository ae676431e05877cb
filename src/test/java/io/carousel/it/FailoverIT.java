package io.carousel.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.carousel.config.CarouselConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Two {@code carousel run} processes of one application (num.standby.replicas=1, 4 partitions),
 * one killed with SIGKILL after it has processed part of its partitions: the other takes them over
 * (from its standby copies and the changelogs) and goes on with each key's state. Every event must
 * be in the committed output exactly once, and every record must equal, byte for byte, that of an
 * uninterrupted run over the same events (TopologyTestDriver). Retraining is off, as in the first
 * test of {@link CrashExactlyOnceIT} and for the same reason: with asynchronous training the moment a
 * new model takes over depends on timing, so only a run without it can be compared bit for bit;
 * the keys serve the LSTM of model.init from their first event, so the forecasts depend on the
 * restored h and c.
 */
class FailoverIT extends BrokerIT {
    private static final Duration START = Duration.ofSeconds(90);
    private static final Duration WAIT = Duration.ofSeconds(90);
    private static final TestEvents EV = ItSetup.EVENTS;

    @Test
    @Timeout(value = 170, unit = TimeUnit.SECONDS)
    void theSurvivorTakesOverTheKilledInstancesPartitionsAndGoesOnWithEachKey() throws Exception {
        String app = "failover";
        String bootstrap = broker.bootstrapServers();
        List<String> sets = ItSetup.settings(bootstrap, app, tmp.resolve("unused"), "num.standby.replicas=1");
        CarouselConfig c = ItSetup.createTopics(broker, sets);
        CompletableFuture<Outputs.Run> reference = ItSetup.reference(sets, tmp);

        try (CarouselProcess.Group ps = new CarouselProcess.Group(ItSetup.logDir(getClass(), "kill-one-of-two"));
             CommittedTail tail = new CommittedTail(bootstrap, c.topicEnriched());
             TestEvents.Feeder feed = EV.new Feeder(bootstrap, c.topicEvents(), 2000)) {
            try {
                long t0 = System.nanoTime();
                CarouselProcess a = ps.start("a", instance(sets, "a"));
                CarouselProcess b = ps.start("b", instance(sets, "b"));
                a.awaitRunning(START);
                b.awaitRunning(START);
                Map<String, Set<Integer>> assigned = awaitAssignment(app, c.topicEvents(), 2, WAIT);
                Set<Integer> ofA = assigned.get(app + "-a");
                long ofAEvents = ofA.stream().mapToLong(FailoverIT::eventsOn).sum();
                feed.start();
                // a has committed a quarter of the output of its partitions
                tail.await("a quarter of the output of a's partitions " + ofA,
                        () -> ofA.stream().mapToLong(tail::count).sum() >= ofAEvents / 4,
                        () -> feed.sent() + " events sent, per partition " + perPartition(tail), WAIT);
                a.kill();
                int sentAtKill = feed.sent();
                Thread.sleep(1000);
                String atKill = perPartition(tail);
                long[] countsAtKill = new long[4];
                for (int p = 0; p < 4; p++) {
                    countsAtKill[p] = tail.count(p);
                }
                long committedAtKill = tail.total();

                Map<String, Set<Integer>> after = awaitAssignment(app, c.topicEvents(), 1, WAIT);
                assertEquals(Set.of(0, 1, 2, 3), after.get(app + "-b"), "b took over every partition: " + after);
                feed.awaitDone(WAIT);
                ItSetup.awaitConsumed(broker, c, WAIT);
                assertEquals(0, b.stop(Duration.ofSeconds(45)), "exit status of b, stopped by SIGTERM");
                Outputs.Run run = Outputs.readRun(bootstrap, c, EV.total(), Duration.ofSeconds(20));
                long aborted = Outputs.abortedRecords(bootstrap, c.topicEnriched());
                Outputs.Run ref = ItSetup.await(reference);

                System.out.printf("FailoverIT: a had partitions %s, b %s; a killed at %d of %d committed (%d sent; per partition %s);"
                                + " %d enriched, %d forecasts, %d anomalies committed; %d enriched records of aborted transactions;"
                                + " %.1f s; %s%n", ofA, assigned.get(app + "-b"), committedAtKill, EV.total(), sentAtKill, atKill,
                        run.enriched().size(), run.forecasts().size(), run.anomalies().size(), aborted,
                        (System.nanoTime() - t0) / 1e9, ps.startTimes());
                assertTrue(committedAtKill < EV.total(), "a was killed after some, not all, output: " + committedAtKill);

                Outputs.assertExactlyOnce("enriched", run.enriched(), EV);
                Outputs.assertExactlyOnce("forecasts", run.forecasts(), EV);
                Outputs.assertContinuous("enriched", run.enriched());
                assertEquals(EV.total(), Outputs.assertSameAs("enriched", run.enriched(), Outputs.index(ref.enriched())));
                assertEquals(EV.total(), Outputs.assertSameAs("forecasts", run.forecasts(), Outputs.index(ref.forecasts())));
                assertEquals(ref.anomalies().stream().map(Outputs.Rec::id).collect(Collectors.toSet()),
                        run.anomalies().stream().map(Outputs.Rec::id).collect(Collectors.toSet()), "anomalies");
                assertEquals(ref.anomalies().size(), run.anomalies().size(), "anomalies written twice");
                for (int p = 0; p < 4; p++) {
                    int partition = p;
                    assertEquals(eventsOn(p), run.enriched().stream().filter(r -> r.partition() == partition).count(),
                            "records on partition " + p);
                }
                // a's partitions: partly done by a, the rest by b
                assertTrue(ofA.stream().anyMatch(p -> countsAtKill[p] < eventsOn(p)), "a had done all of its partitions "
                        + ofA + " when it was killed: " + atKill);
            } catch (Throwable t) {
                ps.printTails(60);
                throw t;
            }
        }
    }

    /** One instance's settings: its own state directory and client.id (which names its members in the group). */
    private static List<String> instance(List<String> sets, String name) {
        return ItSetup.with(ItSetup.with(sets, "state.dir", tmp.resolve("state-" + name).toString()), "client.id",
                "failover-" + name);
    }

    /**
     * Waits until the group is stable with {@code members} members that between them own every
     * partition of {@code topic}; returns each member's partitions by client.id (without the
     * thread suffix).
     */
    private static Map<String, Set<Integer>> awaitAssignment(String group, String topic, int members, Duration timeout)
            throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "";
        while (System.nanoTime() < deadline) {
            ConsumerGroupDescription d = broker.admin().describeConsumerGroups(List.of(group)).describedGroups().get(group)
                    .get(10, TimeUnit.SECONDS);
            Map<String, Set<Integer>> byClient = new TreeMap<>();
            for (MemberDescription m : d.members()) {
                String client = m.clientId().replaceAll("-StreamThread-\\d+-consumer$", "");
                Set<Integer> parts = byClient.computeIfAbsent(client, x -> new TreeSet<>());
                for (TopicPartition tp : m.assignment().topicPartitions()) {
                    if (tp.topic().equals(topic)) {
                        parts.add(tp.partition());
                    }
                }
            }
            last = d.groupState() + " " + byClient;
            List<Integer> all = new ArrayList<>();
            byClient.values().forEach(all::addAll);
            if (d.groupState() == GroupState.STABLE && byClient.size() == members && all.size() == 4
                    && new TreeSet<>(all).size() == 4 && byClient.values().stream().noneMatch(Set::isEmpty)) {
                return byClient;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("the group " + group + " did not settle on " + members + " members owning the 4 partitions of "
                + topic + " within " + timeout.toSeconds() + " s: " + last);
    }

    /** The events of the partition of the events topic (and of the enriched topic) that the producer's partitioner gives. */
    private static long eventsOn(int partition) {
        long n = 0;
        for (int k = 0; k < EV.keys; k++) {
            if (Utils.toPositive(Utils.murmur2(TestEvents.bytes(EV.key(k)))) % 4 == partition) {
                n += EV.perKey;
            }
        }
        return n;
    }

    private static String perPartition(CommittedTail tail) {
        List<Long> l = new ArrayList<>();
        for (int p = 0; p < 4; p++) {
            l.add(tail.count(p));
        }
        return l.toString();
    }
}
