#!/usr/bin/perl
# sa_relays.pl - SpamAssassin's X-Spam-Relays-Untrusted of stored messages,
# one line each: "FILE<TAB>LIST", as `mailwarden rules relays` prints it
# (contrib/bench/relays_compare.py).
#
#   sa_relays.pl MESSAGE...
#
# SpamAssassin as sa_bench.pl runs it: Check plugin only, no network
# tests, no trusted_networks (so it infers which hops are trusted).
use strict;
use warnings;
use Mail::SpamAssassin;

my $sa = Mail::SpamAssassin->new({
	config_text => "loadplugin Mail::SpamAssassin::Plugin::Check\n" .
	    "use_bayes 0\nuse_auto_whitelist 0\n",
	local_tests_only => 1,
	dont_copy_prefs => 1,
	userprefs_filename => '/dev/null',
	home_dir_for_helpers => '/tmp',
});
for my $f (@ARGV) {
	open(my $m, '<', $f) or die "$f: $!";
	my $text = do { local $/; <$m> };
	close($m);
	my $mail = $sa->parse($text);
	my $st = $sa->check($mail);
	print "$f\t", $st->get_tag("RELAYSUNTRUSTED"), "\n";
	$st->finish();
	$mail->finish();
}
