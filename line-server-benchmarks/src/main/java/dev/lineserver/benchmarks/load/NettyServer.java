package dev.lineserver.benchmarks.load;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.internal.PlatformDependent;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import org.jspecify.annotations.Nullable;

/**
 * Netty 4.2 with NIO or native epoll: a one-thread boss group, a worker group (Netty's default of
 * twice the processors unless {@code ioThreads} is set), {@code LineBasedFrameDecoder(65536)} and a
 * handler that decodes each frame with {@code ByteBuf.toString(UTF_8)} and counts it; with a TLS
 * context, an {@code SslHandler} over a JDK {@code SSLEngine} first. With {@code ack}, the handler
 * also answers every frame with {@code ctx.write} of a duplicate of one shared, unreleasable direct
 * buffer holding {@link Lines#ACK} (no reference count to update per write, no copy) on the void
 * promise, and flushes once per read, in {@code channelReadComplete}.
 */
final class NettyServer implements BenchServer {
  private final EventLoopGroup boss;
  private final EventLoopGroup workers;
  private final Channel channel;

  NettyServer(boolean epoll, int ioThreads, Meter meter, @Nullable SSLContext tls, boolean ack)
      throws InterruptedException {
    if (epoll && !Epoll.isAvailable()) {
      throw new UnsupportedOperationException("native epoll: " + Epoll.unavailabilityCause());
    }
    IoHandlerFactory factory = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    Class<? extends ServerChannel> type =
        epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    this.boss = new MultiThreadIoEventLoopGroup(1, factory);
    this.workers =
        ioThreads > 0
            ? new MultiThreadIoEventLoopGroup(ioThreads, factory)
            : new MultiThreadIoEventLoopGroup(factory);
    ChannelHandler counter = new Counter(meter, ack);
    this.channel =
        new ServerBootstrap()
            .group(boss, workers)
            .channel(type)
            .childHandler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel ch) {
                    if (tls != null) {
                      SSLEngine engine = tls.createSSLEngine();
                      engine.setUseClientMode(false);
                      ch.pipeline().addLast(new SslHandler(engine));
                    }
                    ch.pipeline().addLast(new LineBasedFrameDecoder(65536), counter);
                  }
                })
            .bind(InetAddress.getLoopbackAddress(), 0)
            .sync()
            .channel();
  }

  @Override
  public int port() {
    return ((java.net.InetSocketAddress) channel.localAddress()).getPort();
  }

  @Override
  public long extraDirectBytes() {
    return Math.max(0, PlatformDependent.usedDirectMemory());
  }

  @Override
  public void close() {
    channel.close().syncUninterruptibly();
    boss.shutdownGracefully().syncUninterruptibly();
    workers.shutdownGracefully().syncUninterruptibly();
  }

  @ChannelHandler.Sharable
  private static final class Counter extends SimpleChannelInboundHandler<ByteBuf> {
    /** Shared by every channel; each write takes a duplicate, whose release does nothing. */
    private static final ByteBuf ACK =
        Unpooled.unreleasableBuffer(
            Unpooled.directBuffer(Lines.ACK.length).writeBytes(Lines.ACK).asReadOnly());

    private final Meter meter;
    private final boolean ack;

    Counter(Meter meter, boolean ack) {
      this.meter = meter;
      this.ack = ack;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
      meter.opened();
      super.channelActive(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
      meter.closed();
      super.channelInactive(ctx);
    }

    @Override
    @SuppressWarnings(
        "FutureReturnValueIgnored") // the void promise: a failure fires exceptionCaught
    protected void channelRead0(ChannelHandlerContext ctx, ByteBuf msg) {
      meter.string(msg.toString(StandardCharsets.UTF_8));
      if (ack) {
        ctx.write(ACK.duplicate(), ctx.voidPromise());
      }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      if (ack) {
        ctx.flush();
      }
      ctx.fireChannelReadComplete();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close().addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
    }
  }
}
