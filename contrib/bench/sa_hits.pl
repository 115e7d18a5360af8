#!/usr/bin/perl
# sa_hits.pl - SpamAssassin's stock rules over message files, one line each:
#   FILE <TAB> SCORE <TAB> TEST,TEST,...
# local tests only, no Bayes, no auto-welcomelist.
use strict;
use warnings;
use Mail::SpamAssassin;
my $sa = Mail::SpamAssassin->new({
	local_tests_only => 1,
	dont_copy_prefs => 1,
	userprefs_filename => '/dev/null',
	home_dir_for_helpers => '/tmp',
	post_config_text => "use_bayes 0\nuse_auto_whitelist 0\nuse_txrep 0\n",
});
$sa->compile_now(0, 1);
$| = 1;
for my $f (@ARGV) {
	open(my $m, '<', $f) or die "$f: $!";
	my $text = do { local $/; <$m> };
	close($m);
	my $mail = $sa->parse($text);
	my $st = $sa->check($mail);
	printf("%s\t%.2f\t%s\n", $f, $st->get_score(), $st->get_names_of_tests_hit());
	$st->finish();
	$mail->finish();
}
