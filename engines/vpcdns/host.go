package vpcdns

import "net"

// ListenHost opens UDP and TCP on one port of a host address (the UDP
// socket's when addr asks for any port), for a DNS server that answers
// on the host: the host only ever listens, never sends to a simulated
// address.
func ListenHost(addr string) (net.PacketConn, net.Listener, error) {
	var err error
	for range 10 {
		var udp net.PacketConn
		if udp, err = net.ListenPacket("udp", addr); err != nil {
			return nil, nil, err
		}
		var tcp net.Listener
		if tcp, err = net.Listen("tcp", udp.LocalAddr().String()); err == nil {
			return udp, tcp, nil
		}
		udp.Close() // the port is taken for TCP: try another
	}
	return nil, nil, err
}
