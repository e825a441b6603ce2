package topics

import (
	"encoding/json"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/newswatch/newswatch/pkg/events"
	"github.com/newswatch/newswatch/pkg/scan"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// seedPath is the seed report, copied from the shared seeds folder so tests are hermetic.
const seedPath = "testdata/livemint-2023-11-11-india-us-2plus2.txt"

const (
	dc  = "defence-cooperation"
	ter = "terrorism"
)

func defaultClassifier(t testing.TB) *Classifier {
	t.Helper()
	c, err := New(DefaultTaxonomy())
	if err != nil {
		t.Fatalf("New(DefaultTaxonomy()): %v", err)
	}
	return c
}

// taxonomyClassifier scores every topic by its taxonomy weights alone
// (no learned model): the mechanics the learned model's taxonomy features
// are built from, and what a topic without learned weights uses.
func taxonomyClassifier(t testing.TB) *Classifier {
	t.Helper()
	c, err := New(DefaultTaxonomy(), WithModel(nil))
	if err != nil {
		t.Fatalf("New(DefaultTaxonomy(), WithModel(nil)): %v", err)
	}
	return c
}

func names(ts []events.Topic) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Name)
	}
	return out
}

// mainNames keeps the two topics the labelling guide defines; the lighter
// topics of the default taxonomy are tested on their own.
func mainNames(ts []events.Topic) []string {
	var out []string
	for _, t := range ts {
		if t.Name == dc || t.Name == ter {
			out = append(out, t.Name)
		}
	}
	return out
}

// headlines are written for these tests, following topics-GUIDE.md: what
// each topic means and what it does not. They pin the taxonomy scorer
// (taxonomyClassifier); the learned model is judged by cross-validation
// and on real items (docs/topics.md), not on these.
var headlines = []struct {
	name        string
	title, text string
	want        []string
}{
	{"quad bike is not the Quad", "Quad bike racing returns to the dunes this weekend",
		"Hundreds of riders are expected at the annual quad bike championship, organisers said.", nil},
	{"battle report is not terrorism", "Russian forces push toward Pokrovsk as shelling intensifies",
		"Ukrainian troops said heavy artillery fire hit front-line positions overnight, and a Russian missile strike damaged an energy facility.", nil},
	{"own budget is not cooperation", "Germany raises defence budget to record level",
		"The finance ministry said military spending would rise next year as the Bundeswehr buys new tanks from domestic manufacturers.", nil},
	{"fighter jet deal", "India and France sign deal for 26 Rafale Marine jets",
		"The agreement covers the supply of fighter aircraft for the Indian Navy, along with training and maintenance by Dassault Aviation.", []string{dc}},
	{"suicide bombing", "Suicide bomber kills 12 at market in northwest Pakistan",
		"Police said the attacker detonated explosives near a crowded bazaar; no group has claimed responsibility.", []string{ter}},
	{"joint naval exercise", "Japan and the Philippines hold first joint naval exercise in South China Sea",
		"Warships from both navies practised communications drills, officials said, as the two countries deepen security ties.", []string{dc}},
	{"terror arrests", "NIA arrests three suspects linked to Lashkar-e-Taiba module",
		"The National Investigation Agency said the men had been planning attacks in Jammu and Kashmir.", []string{ter}},
	{"markets", "Stocks rally as tech shares lead gains on Wall Street",
		"Investors cheered strong earnings from chipmakers while bond yields eased.", nil},
	{"arms sale", "US approves $2 billion sale of air defence systems to Poland",
		"The State Department cleared the possible foreign military sale of Patriot batteries, the Pentagon said.", []string{dc}},
	{"riot is not terrorism", "Police disperse rioters after communal clashes in town",
		"Several shops were set on fire and a curfew was imposed after two groups clashed over a procession.", nil},
	{"Islamic State attack", "Islamic State claims responsibility for attack on Kabul mosque",
		"At least 20 worshippers were killed when a bomb exploded during Friday prayers.", []string{ter}},
	{"cyber-crime is not terrorism", "Hackers breach hospital network, demand ransom",
		"The ransomware attack disrupted patient services, officials said.", nil},
	{"alliance deployment", "NATO allies agree to boost troop presence on eastern flank",
		"Defence ministers meeting in Brussels pledged more forces for Estonia, Latvia and Lithuania.", []string{dc}},
	{"Taliban governance is not terrorism", "Taliban government announces new school curriculum",
		"The Taliban-led administration said the changes would take effect next year.", nil},
	{"counter-terrorism cooperation is both", "India, US to share intelligence on terror groups under new pact",
		"The two countries agreed to deepen counter-terrorism cooperation during talks in New Delhi.", []string{dc, ter}},
	{"trade talks", "Trade talks between China and the EU stall over tariffs",
		"Negotiators failed to agree on electric vehicle duties, officials said.", nil},
	{"AUKUS submarines", "Australia to buy nuclear-powered submarines from US under AUKUS",
		"Canberra will acquire Virginia-class boats before building its own with British help.", []string{dc}},
	{"insurgent ambush", "Gunmen kill five soldiers in ambush in restive Balochistan",
		"The Baloch Liberation Army said its fighters carried out the attack.", []string{ter}},
	{"cricket attack", "Cricket: India beat Australia by six wickets to clinch series",
		"The visitors' attack was blunted by a superb century from the captain.", nil},
	{"heatwave", "Heatwave kills dozens as temperatures soar",
		"Hospitals reported a surge in heatstroke cases across the region.", nil},
	{"football defence", "Manchester derby: City's defence holds firm in 2-0 win",
		"The home side's back line kept a clean sheet as the striker scored twice.", nil},
	{"joint drills", "South Korea and US begin large-scale joint military drills",
		"North Korea condemned the exercises as a rehearsal for invasion.", []string{dc}},
	{"Maoist IED", "Maoists blow up road in Chhattisgarh, two jawans killed",
		"The IED blast targeted a security forces vehicle in Bijapur district.", []string{ter}},
	{"oil prices", "Oil prices rise after OPEC cuts output",
		"Brent crude gained 2 percent as traders weighed supply concerns.", nil},
	{"co-production", "Turkey to co-produce drones with Indonesia",
		"Baykar and an Indonesian state firm signed a technology transfer agreement.", []string{dc}},
	{"stabbing not terror-related", "Man arrested after stabbing at shopping centre",
		"Police said the attack was not terror-related and the suspect knew the victim.", nil},
	{"terror trial", "Court sentences 26/11 plotter to life imprisonment",
		"The accused had helped plan the 2008 Mumbai attacks, prosecutors said.", []string{ter}},
	{"elections", "Election commission announces poll dates for five states",
		"Voting will be held in seven phases, officials said.", nil},
	{"counter-terror raid", "Pakistan's army says it killed 10 militants in North Waziristan raid",
		"The operation targeted a hideout of the Tehreek-e-Taliban Pakistan, the military said.", []string{ter}},
	{"rivals' warships are not cooperation", "Chinese warships shadow Japanese destroyer near disputed islands",
		"Tokyo lodged a protest with Beijing over the incident.", nil},
	{"box office bomb", "Box office bomb: summer blockbuster flops",
		"The film's opening weekend was the worst for the studio in a decade.", nil},
	{"militant rockets", "Hezbollah fires rockets at northern Israel",
		"The militant group said the barrage was in response to an Israeli strike.", []string{ter}},
	{"car recall", "Hyundai and Kia recall 90,000 cars over fire risk",
		"The companies said owners should park outside until repairs are made.", nil},
	{"pentagon sends more patriot interceptors", "Pentagon Sends More Patriot Interceptors to Kyiv",
		"The shipment is part of a package of air-defense equipment the U.S. has promised Ukraine this year.", []string{dc}},
	{"gunmen storm hotel in mogadishu, killing", "Gunmen Storm Hotel in Mogadishu, Killing 9",
		"Al-Shabaab claimed responsibility for the assault on the seaside hotel, police said.", []string{ter}},
	{"u.s. and philippines expand access to mi", "U.S. and Philippines Expand Access to Military Bases",
		"Washington will gain access to four more Philippine sites under the Enhanced Defense Cooperation Agreement.", []string{dc}},
	{"car bomb kills 12 near police academy in", "Car Bomb Kills 12 Near Police Academy in Baghdad",
		"Insurgents have stepped up attacks ahead of the January elections.", []string{ter}},
	{"modi lays foundation stone for airport i", "Modi Lays Foundation Stone for Airport in Bihar",
		"The prime minister said the project would create thousands of jobs.", nil},
	{"russia pounds kharkiv with glide bombs", "Russia Pounds Kharkiv With Glide Bombs",
		"Ukrainian officials said the strikes killed four people and damaged apartment blocks as Russian troops advanced in the east.", nil},
	{"kidnappers free two italian aid workers ", "Kidnappers Free Two Italian Aid Workers in Iraq",
		"The women were released three weeks after they were seized from their office in Baghdad by armed men.", []string{ter}},
	{"germany and norway to jointly buy submar", "Germany and Norway to Jointly Buy Submarines",
		"The two countries signed an agreement for four more Type 212CD boats from Thyssenkrupp Marine Systems.", []string{dc}},
	{"fed holds rates steady, signals cuts lat", "Fed Holds Rates Steady, Signals Cuts Later This Year",
		"Officials said inflation had eased but remained above target.", nil},
	{"security forces kill three terrorists in", "Security Forces Kill Three Terrorists in Kupwara Encounter",
		"The militants were trying to infiltrate across the Line of Control, the Army said.", []string{ter}},
	{"japan approves record military budget am", "Japan Approves Record Military Budget Amid China Worries",
		"The spending plan includes long-range missiles developed by Mitsubishi Heavy Industries.", nil},
	{"britain to train ukrainian soldiers in n", "Britain to Train Ukrainian Soldiers in New Program",
		"Thousands of recruits will be taught combat skills at bases in England.", []string{dc}},
	{"four killed in road accident on highway", "Four Killed in Road Accident on Highway",
		"A truck collided with a bus near the toll plaza early on Monday.", nil},
	{"philippine troops battle abu sayyaf mili", "Philippine Troops Battle Abu Sayyaf Militants on Jolo",
		"Two soldiers and five rebels were killed in the clash, the military said.", []string{ter}},
	{"strike by dock workers halts exports", "Strike by Dock Workers Halts Exports",
		"The union said the walkout would continue until wages rise.", nil},
	{"saudi arabia signs deal to buy american ", "Saudi Arabia Signs Deal to Buy American Fighter Jets",
		"The agreement, reached during the president's visit to Riyadh, covers F-15s and training.", []string{dc}},
	{"man sentenced for plotting attack on con", "Man Sentenced for Plotting Attack on Concert on Behalf of ISIS",
		"Prosecutors said he had pledged allegiance to the Islamic State online.", []string{ter}},
	{"china and russia hold joint bomber patro", "China and Russia Hold Joint Bomber Patrol Near Japan",
		"Tokyo scrambled fighter jets as the aircraft flew over the Sea of Japan.", []string{dc}},
	{"opposition leader attacks government ove", "Opposition Leader Attacks Government Over Inflation",
		"He said the budget had failed ordinary families.", nil},
	{"israeli strike kills senior hezbollah co", "Israeli Strike Kills Senior Hezbollah Commander in Beirut",
		"The militant group vowed revenge for the killing.", []string{ter}},
	{"india test-fires agni missile", "India Test-Fires Agni Missile",
		"The missile, developed by DRDO, hit its target in the Bay of Bengal.", nil},
	{"taliban attack kills 10 afghan policemen", "Taliban Attack Kills 10 Afghan Policemen",
		"Insurgents ambushed a checkpoint in Helmand province overnight.", []string{ter}},
	// Categories the guide excludes from defence-cooperation, and their
	// look-alikes that stay in.
	{"espionage is not cooperation", "Navy engineer convicted of spying for China",
		"He passed military secrets to Chinese intelligence officers for cash, prosecutors said.", nil},
	{"allies against espionage are cooperation", "Japan and Australia agree to share intelligence on Chinese espionage",
		"The two countries' defence ministers said closer security ties would protect military secrets.", []string{dc}},
	{"a blacklist is not cooperation", "Washington blacklists Iranian drone suppliers over military ties to Russia",
		"The firms were added to the entity list, cutting them off from American components.", nil},
	{"an arms deal despite a sanctions threat is a transfer", "India takes delivery of Russian missile systems despite sanctions threat",
		"Moscow delivered the air defence systems under a deal signed in 2018.", []string{dc}},
	{"mediation is not cooperation", "Turkey and Qatar mediate as Libya's warring sides send military delegations to talks",
		"The two armed camps agreed to meet again.", nil},
	{"built for another state", "South Korea launches first frigate built for the Philippines",
		"The warship is the first of two ordered by Manila.", []string{dc}},
	{"a summit as backdrop is a passing mention", "Commuters face road closures as NATO leaders meet in Madrid",
		"Police will shut main roads around the venue and public transport will be disrupted.", nil},
	// And from terrorism.
	{"a former insurgent in office is politics", "Former Tamil rebel leader sworn in as provincial chief minister",
		"The ex-guerrilla took office after his party won the most seats in the council.", nil},
	{"an attack as a government takes office stays terrorism", "Suicide bomber strikes ministry as new cabinet is sworn in",
		"Islamic State said its fighter carried out the attack in the capital.", []string{ter}},
	{"a crime gang's killing is not terrorism", "Police arrest gunmen over killing of businessman",
		"Investigators said organised crime bosses ordered the killing.", nil},
	// Second round (fifth held-out set's categories), each rule with a
	// look-alike that keeps its topic.
	{"a border clash between two armies is war", "Armenian and Azerbaijani troops clash on disputed border, several killed",
		"Dozens were killed as the two neighbours exchanged artillery and rocket fire overnight.", nil},
	{"militants attacking border troops stay terrorism", "Militants ambush border post, killing six soldiers",
		"The banned group claimed the attack near the disputed border, saying it targeted security forces.", []string{ter}},
	{"a wartime bomb defused is not an attack", "Second World War bomb defused after thousands evacuated in Hamburg",
		"Bomb disposal teams made the device safe after it was unearthed by builders.", nil},
	{"a planted bomb defused stays terrorism", "Police defuse bomb planted outside courthouse",
		"Investigators said the explosive device was left by members of a banned militant group.", []string{ter}},
	{"air force bombers are not bombers-as-attackers", "Strategic bombers fly over Pacific in show of force",
		"The long-range bombers flew a twelve-hour mission with escort aircraft.", nil},
	{"suicide bombers stay terrorism", "Suicide bombers kill 20 at crowded bus station",
		"Two attackers detonated explosive vests; the Islamic State claimed responsibility.", []string{ter}},
	{"a shooting with no known motive is crime", "Gunman kills seven at warehouse party",
		"Police said the motive remains unclear and the suspect was found dead hours later.", nil},
	{"a shooting with a stated extremist aim stays terrorism", "Gunman kills seven at synagogue in hate attack",
		"Police said the attacker had posted an extremist manifesto and was being treated as a terrorist.", []string{ter}},
	{"a robber's hostage standoff is crime", "Man takes bank staff hostage, demands cash",
		"Police said there was no indication of a terrorist motive and the siege ended peacefully.", nil},
	{"an accidental blast is not an attack", "Explosion at chemical warehouse kills 30",
		"Officials blamed negligence and said the chemicals had been improperly stored.", nil},
	{"an attack on sports fans stays terrorism", "Bombs hit fans watching football final at stadium",
		"The extremist group said it set off the explosives among the crowds, killing 40.", []string{ter}},
	{"a plot to blow up planes", "Eight arrested over plot to blow up passenger planes",
		"Police said the suspects planned to hide liquid explosives in hand luggage.", []string{ter}},
	{"a plot to storm a legislature", "Prosecutors charge far-right group over plot to storm the legislature",
		"The members are accused of planning to overthrow the government by force and forming a terrorist group.", []string{ter}},
	{"a storm is still a disaster", "Storm kills 12 as floods sweep coastal towns",
		"Heavy rain brought down power lines and the explosion of a transformer injured three.", nil},
	{"an election is not cooperation", "Social Democrat wins Latvia's presidential runoff",
		"The veteran diplomat is the first head of state chosen by voters since Latvia became a NATO member.", nil},
	{"a cabinet post is a passing mention", "Former NATO deputy named Dutch finance minister",
		"He returns to domestic politics ahead of the parliamentary election.", nil},
	{"an elected leader signing a pact stays cooperation", "Newly elected Kenyan president signs defence pact with France",
		"The agreement covers joint exercises and the supply of helicopters to the army.", []string{dc}},
	{"defence talks between rivals", "Defence ministers of India and China meet in Moscow",
		"They agreed to restore a military hotline and meet again next year.", []string{dc}},
	{"sharing missile warning data", "Australia, Japan begin sharing missile tracking data",
		"Defence officials said the two militaries linked their radars to follow launches in real time.", []string{dc}},
	{"a tank delivery named by its model", "Netherlands clears delivery of 14 Leopard 2A4s to Ukraine",
		"The government will also fund the training of crews.", []string{dc}},
	{"an overseas base", "India opens overseas military base in Mauritius",
		"The facility on the island will support naval patrols under an agreement with the host nation.", []string{dc}},
}

func TestClassifyHeadlines(t *testing.T) {
	c := taxonomyClassifier(t)
	for _, tc := range headlines {
		t.Run(tc.name, func(t *testing.T) {
			got := c.Classify(tc.title, tc.text)
			if !slices.Equal(mainNames(got), tc.want) {
				var b strings.Builder
				_ = c.Explain(tc.title, tc.text).WriteText(&b)
				t.Errorf("Classify(%q) = %v, want %v\n%s", tc.title, mainNames(got), tc.want, b.String())
			}
			checkEvidence(t, got, tc.title, tc.text)
		})
	}
}

// checkEvidence asserts that every flag carries evidence that adds up and
// quotes a sentence of the field it names.
func checkEvidence(t *testing.T, got []events.Topic, title, text string) {
	t.Helper()
	for _, tp := range got {
		if tp.Score < tp.Threshold {
			t.Errorf("%s flagged with score %v below threshold %v", tp.Name, tp.Score, tp.Threshold)
		}
		if len(tp.Evidence) == 0 {
			t.Errorf("%s flagged without evidence", tp.Name)
		}
		positive := false
		for _, ev := range tp.Evidence {
			src := text
			switch ev.Field {
			case "title":
				src = title
			case "text":
			default:
				t.Errorf("%s: evidence %q has field %q", tp.Name, ev.Term, ev.Field)
			}
			s := strings.TrimSuffix(ev.Sentence, "…")
			if ev.Sentence == "" || !strings.Contains(src, s) {
				t.Errorf("%s: evidence %q quotes %q, not a sentence of its %s", tp.Name, ev.Term, ev.Sentence, ev.Field)
			}
			if ev.Term == "" {
				t.Errorf("%s: evidence without a term in %q", tp.Name, ev.Sentence)
			}
			positive = positive || ev.Weight > 0
		}
		if !positive {
			t.Errorf("%s flagged without positive evidence", tp.Name)
		}
	}
}

func TestSeedArticleHasBothTopics(t *testing.T) {
	raw, err := os.ReadFile(seedPath)
	if err != nil {
		t.Fatalf("seed article: %v", err)
	}
	text := string(raw)
	c := defaultClassifier(t)
	for _, title := range []string{"", "India, US agree to co-produce armoured vehicles at 2+2 dialogue"} {
		got := c.Classify(title, text)
		if !slices.Equal(mainNames(got), []string{dc, ter}) {
			t.Fatalf("title %q: Classify(seed) = %v, want both topics", title, names(got))
		}
		checkEvidence(t, got, title, text)
		want := map[string][]string{
			dc:  {"co-production", "defence", "Defence"},
			ter: {"Lashkar-e-Tayyiba", "26/11", "terror"},
		}
		for _, tp := range got {
			found := false
			for _, ev := range tp.Evidence {
				for _, w := range want[tp.Name] {
					found = found || strings.Contains(ev.Sentence, w)
				}
				if strings.HasPrefix(ev.Sentence, "Also Read") {
					t.Errorf("%s: evidence from a boilerplate line: %q", tp.Name, ev.Sentence)
				}
			}
			if !found {
				t.Errorf("%s: no evidence sentence mentions any of %v: %+v", tp.Name, want[tp.Name], tp.Evidence)
			}
		}
	}
}

// A passing mention deep in a long unrelated article must not flag a topic,
// while the same words in a headline do.
func TestPlacementAndDensity(t *testing.T) {
	c := taxonomyClassifier(t)
	filler := strings.Repeat("The city council approved the new budget for parks and libraries after a long debate. ", 30)
	mention := "Officials noted that a suicide bomber had struck a market in another country years ago. "
	long := filler + mention + filler
	if got := c.Classify("Council passes budget", long); len(got) != 0 {
		t.Errorf("passing mention in a long article flagged %v", names(got))
	}
	if got := c.Classify("Suicide bomber strikes market", filler); !slices.Equal(mainNames(got), []string{ter}) {
		t.Errorf("headline evidence: got %v, want terrorism", names(got))
	}
	// Many sentences of evidence through a long body flag it without any
	// help from title or lead.
	dense := filler[:400] + "Police said the militants who carried out the bombing belonged to a banned group. " +
		"Investigators recovered parts of an improvised explosive device. The attack was claimed by the Islamic State. " +
		"Counter-terrorism officers arrested two suspects on Sunday. The bombers had trained at a camp abroad. " +
		"Security was tightened at mosques after the blast. " + filler
	if got := c.Classify("Council passes budget", dense); !slices.Equal(mainNames(got), []string{ter}) {
		t.Errorf("dense body evidence: got %v, want terrorism", names(got))
	}
}

func TestLighterTopics(t *testing.T) {
	c := taxonomyClassifier(t)
	tests := []struct {
		name, title, text, topic string
		want                     bool
	}{
		{"procurement order", "Navy orders six new frigates from state shipyard", "The defence ministry signed the contract on Monday.", "military-procurement", true},
		{"no procurement in a budget for parks", "Council approves budget for parks", "The order was passed unanimously.", "military-procurement", false},
		{"piracy", "Pirates hijack merchant vessel off Somalia", "The ship was boarded in the Gulf of Aden.", "maritime-security", true},
		{"sea level is not security", "Sea level rise threatens coastal towns", "Scientists measured the change.", "maritime-security", false},
		{"nuclear test", "North Korea warns of new nuclear test", "Pyongyang said its nuclear arsenal would grow.", "nuclear", true},
		{"nuclear power", "New nuclear power plant connected to the grid", "The reactor will supply two million homes.", "nuclear", false},
		{"ransomware", "Ransomware attack shuts down port operations", "Hackers encrypted the terminal's servers.", "cyber", true},
		{"life hacks", "Ten life hacks for a tidy kitchen", "Simple tricks to save time.", "cyber", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := c.Classify(tc.title, tc.text)
			if slices.Contains(names(got), tc.topic) != tc.want {
				t.Errorf("Classify(%q) = %v, want %s: %v", tc.title, names(got), tc.topic, tc.want)
			}
			checkEvidence(t, got, tc.title, tc.text)
		})
	}
}

func TestCooccurrenceRequirement(t *testing.T) {
	c := taxonomyClassifier(t)
	ex := c.Explain("Army holds exercise with new drones", "The army tested the drones at a range near the capital.")
	for _, tp := range ex.Topics {
		if tp.Name != dc {
			continue
		}
		if tp.Flagged {
			t.Errorf("single-state exercise flagged as cooperation: %+v", tp)
		}
		blocked := false
		for _, f := range tp.Features {
			if f.Status == StatusBlocked && strings.Contains(f.Reason, "distinct actors") {
				blocked = true
			}
		}
		if !blocked {
			t.Errorf("want a feature blocked for want of actors, got %+v", tp.Features)
		}
	}
}

func TestExplainListsEveryTopic(t *testing.T) {
	c := defaultClassifier(t)
	ex := c.Explain("Suicide bomber kills 12 at market", "")
	if len(ex.Topics) != len(c.Topics()) {
		t.Fatalf("Explain lists %d topics, want %d", len(ex.Topics), len(c.Topics()))
	}
	for _, tp := range ex.Topics {
		if tp.Name == ter && (!tp.Flagged || len(tp.Features) == 0) {
			t.Errorf("terrorism explanation: %+v", tp)
		}
	}
	var b strings.Builder
	if err := ex.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"terrorism: probability", "FLAGGED", "bias", "tx:terrorism/", "in: Suicide bomber kills 12 at market", "military-procurement: score"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("explanation lacks %q:\n%s", want, b.String())
		}
	}
}

// TestGolden pins the full result for an article written for the tests.
// Run with -update after a deliberate model change.
func TestGolden(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "exercise-article.txt"))
	if err != nil {
		t.Fatal(err)
	}
	title, text, _ := strings.Cut(string(raw), "\n")
	c := defaultClassifier(t)
	got := c.Classify(title, text)
	if !slices.Equal(mainNames(got), []string{dc, ter}) {
		t.Errorf("got %v, want both topics", names(got))
	}
	out, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, '\n')
	golden := filepath.Join("testdata", "exercise-article.txt.golden")
	if *update {
		if err := os.WriteFile(golden, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(out) != string(want) {
		t.Errorf("result differs from %s (run go test -update after a deliberate change):\n%s", golden, out)
	}
}

// TestConcurrentClassify checks that concurrent calls give the results of
// sequential ones.
func TestConcurrentClassify(t *testing.T) {
	c := defaultClassifier(t)
	want := make([][]string, len(headlines))
	for i, tc := range headlines {
		want[i] = names(c.Classify(tc.title, tc.text))
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				k := (g + i) % len(headlines)
				tc := headlines[k]
				if got := names(c.Classify(tc.title, tc.text)); !slices.Equal(got, want[k]) {
					t.Errorf("%s: got %v concurrently, %v alone", tc.name, got, want[k])
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestParseTaxonomyErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string // substrings of the error
	}{
		{"empty", "", []string{"empty document"}},
		{"no topics", "topics: []\n", []string{`key "topics"`}},
		{"unknown key", "topics:\n  - name: x\n    threshold: 1\n    treshold: 2\n    features: [{name: f, weight: 1, terms: [a]}]\n", []string{"treshold"}},
		{"zero threshold", "topics:\n  - name: spam\n    features: [{name: f, weight: 1, terms: [a]}]\n", []string{`topic "spam"`, `key "threshold"`}},
		{"no features", "topics:\n  - name: spam\n    threshold: 1\n", []string{`topic "spam"`, `key "features"`}},
		{"empty terms", "topics:\n  - name: spam\n    threshold: 1\n    features: [{name: f, weight: 1}]\n", []string{`topic "spam"`, `feature "f"`, `key "terms"`}},
		{"punctuation term", "topics:\n  - name: spam\n    threshold: 1\n    features: [{name: f, weight: 1, terms: [\"--\"]}]\n", []string{`feature "f"`, `"--"`}},
		{"term over two lines", "topics:\n  - name: spam\n    threshold: 1\n    features: [{name: f, weight: 1, terms: [\"a\\nb\"]}]\n", []string{`feature "f"`, `key "terms"`, "two lines"}},
		{"punctuation exclude", "actors: [{id: x, kind: state, names: [x], exclude: [\"--\"]}]\ntopics:\n  - {name: a, threshold: 1, features: [{name: f, weight: 1, terms: [x]}]}\n", []string{`actors[0] "x"`, `key "exclude"`, `"--"`}},
		{"unknown required feature", "topics:\n  - name: spam\n    threshold: 1\n    features: [{name: f, weight: 1, terms: [a], requires: [{feature: g}]}]\n", []string{`feature "f"`, `requires[0]`, `no feature "g"`}},
		{"bad scope", "topics:\n  - name: spam\n    threshold: 1\n    features: [{name: f, weight: 1, terms: [a], requires: [{actors: 2, scope: paragraph}]}]\n", []string{`key "scope"`, `"paragraph"`}},
		{"empty requirement", "topics:\n  - name: spam\n    threshold: 1\n    features: [{name: f, weight: 1, terms: [a], requires: [{scope: window}]}]\n", []string{`requires[0]`, `"feature" or "actors"`}},
		{"duplicate topic", "topics:\n  - {name: a, threshold: 1, features: [{name: f, weight: 1, terms: [x]}]}\n  - {name: a, threshold: 1, features: [{name: f, weight: 1, terms: [x]}]}\n", []string{`topic "a"`, "twice"}},
		{"bad decay", "topics:\n  - {name: a, threshold: 1, repeat_decay: 1.5, features: [{name: f, weight: 1, terms: [x]}]}\n", []string{`topic "a"`, `key "repeat_decay"`}},
		{"negative body weight", "topics:\n  - {name: a, threshold: 1, body_weight: -1, features: [{name: f, weight: 1, terms: [x]}]}\n", []string{`topic "a"`, `key "body_weight"`}},
		{"actor without names", "actors: [{id: x, kind: state}]\ntopics:\n  - {name: a, threshold: 1, features: [{name: f, weight: 1, terms: [x]}]}\n", []string{`actors[0] "x"`, `key "names"`}},
		{"unknown home", "actors: [{id: x, kind: industry, home: nowhere, names: [x]}]\ntopics:\n  - {name: a, threshold: 1, features: [{name: f, weight: 1, terms: [x]}]}\n", []string{`key "home"`, `"nowhere"`}},
		{"weighted model_only", "topics:\n  - {name: a, threshold: 1, features: [{name: f, weight: 0.5, model_only: true, terms: [x]}]}\n", []string{`feature "f"`, `key "weight"`, "model_only"}},
		{"not yaml", "topics: [unclosed\n", []string{"yaml"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseTaxonomy([]byte(tc.yaml))
			if err == nil {
				t.Fatal("ParseTaxonomy succeeded, want an error")
			}
			if !errors.Is(err, ErrTaxonomy) {
				t.Errorf("error %v does not wrap ErrTaxonomy", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestNewRejectsUnknownActorKind(t *testing.T) {
	tax, err := ParseTaxonomy([]byte("topics:\n  - {name: a, threshold: 1, features: [{name: f, weight: 1, terms: ['@planet']}]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(tax); !errors.Is(err, ErrTaxonomy) || !strings.Contains(err.Error(), `"planet"`) {
		t.Errorf("New: err = %v, want ErrTaxonomy naming the kind", err)
	}
}

func TestCustomTaxonomy(t *testing.T) {
	tax, err := ParseTaxonomy([]byte(`
topics:
  - name: space
    threshold: 1
    features:
      - {name: launch, weight: 0.8, terms: [rocket launch*, satellite*, orbit]}
      - {name: agency, weight: 0.5, terms: [nasa, isro, esa]}
      - {name: fireworks, weight: -1, terms: [fireworks]}
`))
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(tax) // the default actor lexicon fills in
	if err != nil {
		t.Fatal(err)
	}
	if got := names(c.Classify("ISRO readies satellite for orbit", "")); !slices.Equal(got, []string{"space"}) {
		t.Errorf("got %v, want space", got)
	}
	if got := c.Classify("Satellite town fireworks", ""); len(got) != 0 {
		t.Errorf("negative evidence ignored: %v", names(got))
	}
}

// TestModelOnlyFeatures checks that a model_only feature is read by the
// learned model's features but changes nothing in the taxonomy scorer: it
// adds no score and masks no shorter term it contains, as a zero-weight
// feature nobody requires would.
func TestModelOnlyFeatures(t *testing.T) {
	const base = `
topics:
  - name: space
    threshold: 1
    features:
      - {name: launch, weight: 1.2, terms: [launch]}
`
	tests := []struct {
		name, extra string
		wantScore   float64 // the taxonomy score of the title below
	}{
		{"without", "", 1.8},
		{"model_only", "      - {name: launch-window, weight: 0, model_only: true, terms: [launch window]}\n", 1.8},
		{"mask", "      - {name: launch-window, weight: 0, terms: [launch window]}\n", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tax, err := ParseTaxonomy([]byte(base + tc.extra))
			if err != nil {
				t.Fatal(err)
			}
			c, err := New(tax, WithModel(nil))
			if err != nil {
				t.Fatal(err)
			}
			ex := c.Explain("Launch window opens for the probe", "")
			if got := ex.Topics[0].Score; math.Abs(got-tc.wantScore) > 1e-9 {
				t.Errorf("taxonomy score %g, want %g", got, tc.wantScore)
			}
			if tc.name != "model_only" {
				return
			}
			sc := new(scratch)
			d := c.own("Launch window opens for the probe", "", sc)
			c.evaluate(d, sc.hits, 0, sc)
			names := map[uint64]string{}
			c.extract(d, sc, &FeatureOptions{Taxonomy: true}, 0, len(d.Sentences), names)
			var got []string
			for _, f := range sc.fv {
				if f.kind == fvTaxonomy {
					got = append(got, c.keys.names[f.key])
				}
			}
			slices.Sort(got)
			want := []string{"tx:space/launch", "tx:space/launch-window"}
			if !slices.Equal(got, want) {
				t.Errorf("model features %v, want %v", got, want)
			}
		})
	}
}

// TestTermsNormaliseLikeText checks that taxonomy terms are folded by
// pkg/scan's rules, as article text is: punctuation, case, "US" and HTML
// entity remnants in a term match the same words written otherwise.
func TestTermsNormaliseLikeText(t *testing.T) {
	tests := []struct {
		term, title string
	}{
		{"U.S. and UK", "US and UK sign pact"},
		{"US troops", "U.S. troops arrive"},
		{"Lashkar-e-Tayyiba", "Lashkar e Tayyiba’s ‘module’"},
		{"uganda's war", "Uganda #39;s war &quot;ends&quot;"},
		{"über münchen", "Über MÜNCHEN"},
		{"2+2 dialogue", "2 2 dialogue"},
		{"cooperation", "co\u00adoperation"},
		{"f-414", "Ｆ‑414 engines"},
	}
	for _, tc := range tests {
		t.Run(tc.term, func(t *testing.T) {
			tax, err := ParseTaxonomy([]byte("topics:\n  - {name: x, threshold: 1, features: [{name: f, weight: 1, terms: [" + strconvQuote(tc.term) + "]}]}\n"))
			if err != nil {
				t.Fatal(err)
			}
			c, err := New(tax)
			if err != nil {
				t.Fatal(err)
			}
			if got := names(c.Classify(tc.title, "")); !slices.Equal(got, []string{"x"}) {
				t.Errorf("term %q in %q: got %v", tc.term, tc.title, got)
			}
		})
	}
}

func strconvQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestSentences(t *testing.T) {
	text := "Mr. Smith met U.S. Navy officers on Friday. They agreed! \"Next,\" he said. Also Read: skip this. And this.\nNew paragraph without end"
	c := taxonomyClassifier(t)
	sc := new(scratch)
	d := c.own("", text, sc)
	c.evaluate(d, sc.hits, 0, sc)
	var got []string
	for _, sn := range d.Sentences {
		got = append(got, text[sn.Start:sn.End])
	}
	want := []string{
		"Mr. Smith met U.S. Navy officers on Friday.",
		"They agreed!",
		"\"Next,\" he said.",
		"Also Read: skip this.",
		"And this.",
		"New paragraph without end",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("sentences:\n got %q\nwant %q", got, want)
	}
	for i := range d.Sentences {
		wantSkip := i == 3 || i == 4 // the whole "Also Read" line
		if sc.skip[i] != wantSkip {
			t.Errorf("sentence %d %q: skip = %v, want %v", i, want[i], sc.skip[i], wantSkip)
		}
	}
}

// TestWordBoundaries checks what the classifier's terms match: whole words,
// or word starts for prefix terms.
func TestWordBoundaries(t *testing.T) {
	tax, err := ParseTaxonomy([]byte(`
topics:
  - name: x
    threshold: 100
    features:
      - {name: a, weight: 1, terms: [arms]}
      - {name: b, weight: 1, terms: [arms sale]}
      - {name: c, weight: 1, terms: [terror*]}
      - {name: d, weight: 1, terms: [ied]}
`))
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(tax)
	if err != nil {
		t.Fatal(err)
	}
	ex := c.Explain("", "farms\narms sales\nterrorists applied ied")
	var got []string
	for _, f := range ex.Topics[0].Features {
		got = append(got, f.Term)
	}
	if want := []string{"arms", "terrorists", "ied"}; !slices.Equal(got, want) {
		t.Errorf("terms = %q, want %q", got, want)
	}
}

// TestClassifyDoc checks the analyzer's path: one machine over another
// dictionary and the classifier's, one normalised Doc, the same judgements
// as Classify, and neither the Doc nor the hits modified.
func TestClassifyDoc(t *testing.T) {
	c := defaultClassifier(t)
	tax, err := New(DefaultTaxonomy(), WithModel(nil))
	if err != nil {
		t.Fatal(err)
	}
	// The other dictionary repeats some of the classifier's terms, so that
	// hits of another list sit at the same offsets.
	other := []scan.Term{{Text: "Quad"}, {Text: "terror", Prefix: true}, {Text: "United States"}, {Text: "US"}, {Text: "Lashkar-e-Tayyiba"}}
	m, err := scan.Compile(other, c.Terms())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tax.Terms(), c.Terms()) {
		t.Fatal("the taxonomy-only classifier has another dictionary")
	}
	articles := [][2]string{}
	for _, tc := range headlines {
		articles = append(articles, [2]string{tc.title, tc.text})
	}
	if raw, err := os.ReadFile(filepath.Join("testdata", "exercise-article.txt")); err == nil {
		title, text, _ := strings.Cut(string(raw), "\n")
		articles = append(articles, [2]string{title, text})
	}
	if raw, err := os.ReadFile(seedPath); err == nil {
		articles = append(articles, [2]string{"India, US agree to co-produce armoured vehicles at 2+2 dialogue", string(raw)})
	}
	var d scan.Doc
	for _, a := range articles {
		d.Normalize(a[0], a[1])
		hits := m.Scan(&d, nil)
		buf, toks, sents := slices.Clone(d.Buf), slices.Clone(d.Tokens), slices.Clone(d.Sentences)
		hc := slices.Clone(hits)
		got := c.ClassifyDoc(&d, hits, 1)
		if want := c.Classify(a[0], a[1]); !reflect.DeepEqual(got, want) {
			t.Errorf("%q: ClassifyDoc = %+v\nClassify = %+v", a[0], got, want)
		}
		if got, want := c.ExplainDoc(&d, hits, 1), c.Explain(a[0], a[1]); !reflect.DeepEqual(got, want) {
			t.Errorf("%q: ExplainDoc = %+v\nExplain = %+v", a[0], got, want)
		}
		if !slices.Equal(buf, d.Buf) || !slices.Equal(toks, d.Tokens) || !slices.Equal(sents, d.Sentences) || !slices.Equal(hc, hits) {
			t.Errorf("%q: ClassifyDoc modified the Doc or the hits", a[0])
		}
		// The taxonomy scorer reads nothing but hits: read at the wrong
		// offset, the other dictionary's hits must flag nothing. (The
		// learned model also reads words, which flag on their own.)
		if got := tax.ClassifyDoc(&d, hits, 0); got != nil {
			t.Errorf("%q: the other dictionary's hits flagged %v", a[0], names(got))
		}
	}
}

// TestEvaluateDoesNotAllocate checks the hot loop: once its buffers have
// grown, evaluating an article allocates nothing per term match.
func TestEvaluateDoesNotAllocate(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "exercise-article.txt"))
	if err != nil {
		t.Fatal(err)
	}
	title, text, _ := strings.Cut(string(raw), "\n")
	c := defaultClassifier(t)
	sc := new(scratch)
	d := c.own(title, text, sc)
	c.evaluate(d, sc.hits, 0, sc)
	c.predict(d, sc)
	if len(sc.firings) == 0 || len(sc.fv) == 0 {
		t.Fatal("no evidence in the article")
	}
	run := func() {
		c.evaluate(d, sc.hits, 0, sc)
		c.predict(d, sc)
	}
	if n := testing.AllocsPerRun(20, run); n != 0 {
		t.Errorf("evaluate and predict allocated %v times per article", n)
	}
}
