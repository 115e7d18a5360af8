#!/usr/bin/perl
# sa_bench.pl - SpamAssassin's CPU per message over the same messages and
# the same rule file as bench_content (contrib/bench/sa_compare.sh).
#
#   sa_bench.pl RULEFILE MESSAGE...
#
# The rule file is the whole rule configuration (config_text), plus what
# SpamAssassin cannot run without: its Check plugin (the rule runner) and
# the TLD list of 20_aux_tlds.cf (URI parsing).  No other plugin, no
# network tests, no Bayes, no auto-welcomelist.  Messages are read into
# memory first; only parse + check + finish are timed (process CPU).
use strict;
use warnings;
use Mail::SpamAssassin;
use Time::HiRes qw(clock_gettime CLOCK_PROCESS_CPUTIME_ID);

my ($rulefile, @files) = @ARGV;
open(my $fh, '<', $rulefile) or die "$rulefile: $!";
my $rules = do { local $/; <$fh> };
close($fh);
my $tlds = '';
if (open(my $t, '<', '/usr/share/spamassassin/20_aux_tlds.cf')) {
	local $/;
	$tlds = <$t>;
	close($t);
}
my $sa = Mail::SpamAssassin->new({
	config_text => "loadplugin Mail::SpamAssassin::Plugin::Check\n" .
	    "use_bayes 0\nuse_auto_whitelist 0\nrequired_score 5\n" .
	    $tlds . "\n" . $rules,
	local_tests_only => 1,
	dont_copy_prefs => 1,
	userprefs_filename => '/dev/null',
	home_dir_for_helpers => '/tmp',
});
$sa->compile_now(0, 1);
my @msgs;
for my $f (@files) {
	open(my $m, '<', $f) or die "$f: $!";
	local $/;
	push @msgs, scalar <$m>;
	close($m);
}
my ($total, $hits) = (0, 0);
for my $text (@msgs) {
	my $t0 = clock_gettime(CLOCK_PROCESS_CPUTIME_ID);
	my $mail = $sa->parse($text);
	my $st = $sa->check($mail);
	my @names = split(/,/, $st->get_names_of_tests_hit());
	$hits += scalar @names;
	$st->finish();
	$mail->finish();
	$total += clock_gettime(CLOCK_PROCESS_CPUTIME_ID) - $t0;
}
printf("spamassassin: messages %d: mean %.3f ms per message; %.1f rule " .
    "hits per message\n", scalar @msgs, 1000 * $total / scalar @msgs,
    $hits / scalar @msgs);
