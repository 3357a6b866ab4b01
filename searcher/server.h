/*
 * server.h - the query socket of `newsdex-search --listen` (DESIGN
 * section 8; the protocol is in the README, "Query socket").
 */
#ifndef NDX_SEARCHER_SERVER_H
#define NDX_SEARCHER_SERVER_H

/*
 * Runs the server with the whole command line (argv[0] included): parses
 * its own options (-i INDEX, --listen ADDR, --threads, limits...), opens
 * the index, serves until SIGTERM or SIGINT, lets the requests in flight
 * finish and writes their responses.  Returns the exit code: 0 after a
 * clean stop, 1 on failure (index cannot be opened, address cannot be
 * bound), 2 on a usage error.  Prints its messages on stderr.
 */
int server_main(int argc, char **argv);

#endif
