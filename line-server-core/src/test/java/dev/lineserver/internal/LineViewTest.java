package dev.lineserver.internal;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

final class LineViewTest {
  // A direct buffer, as the server reads into. "é,b,c" starts at 2 and is 6 bytes long.
  private final ByteBuffer backing =
      ByteBuffer.allocateDirect(16).put("xxé,b,c;yy".getBytes(UTF_8)).flip();
  private final LineView line = new LineView(UTF_8).set(backing, 2, 6);

  @Test
  void aLineInAHeapBuffer_readsTheSame() {
    LineView heap = new LineView(UTF_8).set(ByteBuffer.wrap("xxé,b,c;yy".getBytes(UTF_8)), 2, 6);
    assertThat(heap.asString()).isEqualTo("é,b,c");
    assertThat(heap.indexOf((byte) ',', 3)).isEqualTo(4);
    assertThat(heap.toByteArray()).isEqualTo("é,b,c".getBytes(UTF_8));
    assertThat(heap.asByteBuffer().remaining()).isEqualTo(6);
  }

  @Test
  void accessors_seeOnlyTheLine() {
    assertThat(line.length()).isEqualTo(6);
    assertThat(line.byteAt(2)).isEqualTo((byte) ',');
    assertThat(line.asString()).isEqualTo("é,b,c");
    assertThat(line.asString(ISO_8859_1)).isEqualTo("Ã©,b,c");
    assertThat(line.toByteArray()).isEqualTo("é,b,c".getBytes(UTF_8));
    assertThat(line).hasToString("é,b,c");
  }

  @Test
  void byteAt_outsideTheLine_throws() {
    assertThatThrownBy(() -> line.byteAt(6)).isInstanceOf(IndexOutOfBoundsException.class);
    assertThatThrownBy(() -> line.byteAt(-1)).isInstanceOf(IndexOutOfBoundsException.class);
  }

  @Test
  void indexOf_searchesWithinTheLineOnly() {
    assertThat(line.indexOf((byte) ',', 0)).isEqualTo(2);
    assertThat(line.indexOf((byte) ',', 3)).isEqualTo(4);
    assertThat(line.indexOf((byte) ';', 0)).as("the ';' lies past the line").isEqualTo(-1);
    assertThat(line.indexOf((byte) 'x', 0)).as("the 'x' lies before the line").isEqualTo(-1);
    assertThat(line.indexOf((byte) ',', 6)).isEqualTo(-1);
    assertThatThrownBy(() -> line.indexOf((byte) ',', 7))
        .isInstanceOf(IndexOutOfBoundsException.class);
  }

  @Test
  void copyTo_copiesAtTheOffset_andRefusesWhatDoesNotFit() {
    byte[] target = new byte[8];
    line.copyTo(target, 2);
    assertThat(new String(target, 2, 6, UTF_8)).isEqualTo("é,b,c");
    assertThatThrownBy(() -> line.copyTo(new byte[7], 2))
        .isInstanceOf(IndexOutOfBoundsException.class);
  }

  @Test
  void asByteBuffer_isReadOnly_remainingIsTheLine_andReusedForTheSameBuffer() {
    ByteBuffer buffer = line.asByteBuffer();
    assertThat(buffer.isReadOnly()).isTrue();
    byte[] remaining = new byte[buffer.remaining()];
    buffer.get(remaining);
    assertThat(new String(remaining, UTF_8)).isEqualTo("é,b,c");
    line.set(backing, 0, 2);
    assertThat(line.asByteBuffer()).isSameAs(buffer);
    assertThat(buffer.remaining()).isEqualTo(2);
  }
}
