package dev.lineserver.examples;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;

/**
 * A local Kafka for trying the forwarder without installing Kafka: one KRaft broker (Kafka's test
 * kit, in this JVM, data in a temporary directory), a 3-partition topic {@code vehicle-positions},
 * its bootstrap address printed, then the topic's record count every 5 seconds until Ctrl-C.
 *
 * <pre>
 * ./mvnw -B -q -pl line-server-examples test-compile exec:exec -Dexec.classpathScope=test \
 *     -Dexample.main=dev.lineserver.examples.LocalKafka
 * </pre>
 */
final class LocalKafka {
  private static final String TOPIC = "vehicle-positions";

  private LocalKafka() {}

  public static void main(String[] args) throws Exception {
    KafkaClusterTestKit cluster =
        new KafkaClusterTestKit.Builder(
                new TestKitNodes.Builder()
                    .setCombined(true)
                    .setNumControllerNodes(1)
                    .setNumBrokerNodes(1)
                    .build())
            .build();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    cluster.close();
                  } catch (Exception e) {
                    System.err.println("closing the broker failed: " + e);
                  }
                  stopped.countDown();
                },
                "local-kafka-stop"));
    cluster.format();
    cluster.startup();
    cluster.waitForReadyBrokers();
    String bootstrap = cluster.bootstrapServers();
    try (Admin admin = Admin.create(Map.<String, Object>of("bootstrap.servers", bootstrap))) {
      admin.createTopics(List.of(new NewTopic(TOPIC, 3, (short) 1))).all().get();
      System.out.println("bootstrap " + bootstrap + ", topic " + TOPIC + "; Ctrl-C to stop");
      while (!stopped.await(5, TimeUnit.SECONDS)) {
        long records = 0;
        for (int partition = 0; partition < 3; partition++) {
          TopicPartition tp = new TopicPartition(TOPIC, partition);
          records +=
              admin.listOffsets(Map.of(tp, OffsetSpec.latest())).partitionResult(tp).get().offset();
        }
        System.out.println(TOPIC + ": " + records + " records");
      }
    }
  }
}
