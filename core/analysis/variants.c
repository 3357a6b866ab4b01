/*
 * variants.c - name variants: the spellings under which news writes one
 * place or person (Kyiv and Kiev, Zelensky and Zelenskyy, Gaddafi and
 * Qaddafi), so that a query word matches all of them, scored as one term.
 *
 * A group is a set of folded single words; a word belongs to one group.
 * The built-in table below holds a few hundred groups, each with its
 * reason; files add more (ndx_variants_load: lines of words separated by
 * spaces or commas, then optionally a TAB and the reason; '#' comments).
 * A file's group that shares a word with a known group joins it.  The
 * table is process-wide, like the source aliases: load files before
 * searching from several threads.
 *
 * Only the words are kept here; the query parser turns a word with
 * variants into NDX_Q_SYN over their stems, and the engines score it as
 * Xapian's OP_SYNONYM does.  Words that are also common English words
 * (Canton for Guangzhou, Male for the Maldives' capital, Chad) are left
 * out of the table: a variant must not change the meaning of a query.
 *
 * FORMAT of INDEX/VARIANTS (text, version 1): a first line
 * "# newsdex variants 1" (NDX_VARIANTS_HEADER), then the groups added by
 * files, one a line, words separated by spaces.  The index front writes
 * it when an index is committed by a process that loaded variant files
 * (newsdex-index --variants FILE), and loads it when the index is opened,
 * so that its searches use them.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "variants.h"
#include "newsdex/analyze.h"
#include "newsdex/status.h"
#include "util/buf.h"
#include "util/hash.h"
#include "util/text.h"
#define GROUP_MAX 16 /* words in one group */

typedef struct builtin {
    const char *words;  /* folded words separated by spaces */
    const char *reason; /* why they are one name */
} builtin;

static const builtin builtins[] = {
    /* Ukraine: Ukrainian-based romanisation (official since 1996) against Russian-based */
    {"kyiv kiev",
     "Ukrainian vs Russian transliteration of the capital"},
    {"kharkiv kharkov",
     "Ukrainian vs Russian transliteration"},
    {"odesa odessa",
     "Ukrainian vs Russian transliteration"},
    {"lviv lvov lwow lemberg",
     "Ukrainian, Russian, Polish and German names"},
    {"mykolaiv nikolaev nikolayev",
     "Ukrainian vs Russian transliteration"},
    {"zaporizhzhia zaporizhia zaporizhzhya zaporozhye zaporozhe",
     "Ukrainian vs Russian transliteration"},
    {"luhansk lugansk",
     "Ukrainian vs Russian transliteration"},
    {"chernihiv chernigov",
     "Ukrainian vs Russian transliteration"},
    {"rivne rovno",
     "Ukrainian vs Russian transliteration"},
    {"vinnytsia vinnitsa vinnytsya",
     "Ukrainian vs Russian transliteration"},
    {"chernivtsi chernovtsy",
     "Ukrainian vs Russian transliteration"},
    {"khmelnytskyi khmelnytsky khmelnitsky",
     "Ukrainian vs Russian transliteration"},
    {"sievierodonetsk severodonetsk syevierodonetsk",
     "Ukrainian vs Russian transliteration"},
    {"lysychansk lisichansk",
     "Ukrainian vs Russian transliteration"},
    {"sloviansk slovyansk slavyansk",
     "Ukrainian vs Russian transliteration"},
    {"izium izyum",
     "Ukrainian vs Russian transliteration"},
    {"kupiansk kupyansk",
     "Ukrainian vs Russian transliteration"},
    {"avdiivka avdeyevka avdiyivka",
     "Ukrainian vs Russian transliteration"},
    {"vuhledar ugledar",
     "Ukrainian vs Russian transliteration"},
    {"chornobyl chernobyl",
     "Ukrainian vs Russian transliteration"},
    {"irpin irpen",
     "Ukrainian vs Russian transliteration"},
    {"hostomel gostomel",
     "Ukrainian vs Russian transliteration"},
    {"horlivka gorlovka",
     "Ukrainian vs Russian transliteration"},
    {"makiivka makeyevka",
     "Ukrainian vs Russian transliteration"},
    {"zhytomyr zhitomir",
     "Ukrainian vs Russian transliteration"},
    {"ternopil ternopol",
     "Ukrainian vs Russian transliteration"},
    {"uzhhorod uzhgorod",
     "Ukrainian vs Russian transliteration"},
    {"kropyvnytskyi kirovohrad kirovograd",
     "renamed city and its transliterations"},
    {"pokrovsk krasnoarmiisk krasnoarmeysk",
     "renamed city and its Russian-era name"},
    {"enerhodar energodar",
     "Ukrainian vs Russian transliteration"},
    {"donbas donbass",
     "Ukrainian vs Russian spelling of the region"},
    {"krym crimea",
     "local and English names of the peninsula"},
    {"sevastopol sebastopol",
     "Russian vs older English spelling"},
    {"zelensky zelenskyy zelenskiy zelenskii zelenskyi",
     "transliterations of Volodymyr Zelensky's name"},
    {"yanukovych yanukovich",
     "Ukrainian vs Russian transliteration"},
    {"tymoshenko timoshenko",
     "Ukrainian vs Russian transliteration"},
    {"klitschko klychko",
     "German vs Ukrainian transliteration of the boxers' and Kyiv mayor's name"},
    {"yushchenko yushenko",
     "transliterations"},
    {"zaluzhnyi zaluzhny zaluzhnyy",
     "transliterations of Valerii Zaluzhnyi's name"},
    {"valerii valeriy valery",
     "transliterations of the first name"},
    {"syrskyi syrsky syrskiy",
     "transliterations of Oleksandr Syrskyi's name"},
    {"shmyhal shmygal",
     "Ukrainian vs Russian transliteration"},
    {"arestovych arestovich",
     "Ukrainian vs Russian transliteration"},
    {"kolomoisky kolomoyskyi kolomoyskiy",
     "transliterations"},
    /* Russia and the former Soviet Union */
    {"navalny navalnyi navalniy",
     "transliterations of Alexei Navalny's name"},
    {"prigozhin prigojine",
     "English vs French transliteration of Yevgeny Prigozhin's name"},
    {"yevgeny evgeny yevgeniy evgeniy",
     "transliterations of the first name"},
    {"shoigu shoygu",
     "transliterations"},
    {"khodorkovsky khodorkovskiy",
     "transliterations"},
    {"gorbachev gorbachov gorbatchev",
     "English, variant and French transliterations"},
    {"khrushchev khrushchov krushchev",
     "transliterations and a common misspelling"},
    {"yeltsin eltsin jelzin",
     "English, French and German transliterations"},
    {"dostoevsky dostoyevsky dostoevskii",
     "transliterations"},
    {"tchaikovsky chaikovsky tschaikowsky",
     "transliterations"},
    {"tolstoy tolstoi",
     "transliterations"},
    {"solzhenitsyn solschenizyn",
     "English vs German transliteration"},
    {"trotsky trotski trotzki",
     "transliterations"},
    {"yekaterinburg ekaterinburg jekaterinburg",
     "transliterations"},
    {"nizhny nizhni nizhniy",
     "transliterations (Nizhny Novgorod)"},
    {"arkhangelsk archangelsk archangel",
     "transliterations and the English name"},
    {"chechnya chechnia",
     "transliterations"},
    {"grozny groznyy",
     "transliterations"},
    {"dagestan daghestan",
     "transliterations"},
    {"ingushetia ingushetiya",
     "transliterations"},
    {"tskhinvali tskhinval",
     "Georgian vs Russian form"},
    {"sukhumi sukhum",
     "Georgian vs Russian form"},
    {"abkhazia abkhazeti",
     "English vs Georgian name"},
    {"tbilisi tiflis",
     "current vs historical name"},
    {"belarus byelorussia belorussia",
     "current name and Soviet-era names"},
    {"lukashenko lukashenka",
     "Russian vs Belarusian transliteration"},
    {"tsikhanouskaya tikhanovskaya tsikhanovskaya",
     "Belarusian vs Russian transliteration"},
    {"moldova moldavia",
     "current vs Soviet-era name"},
    {"chisinau kishinev",
     "Romanian vs Russian name"},
    {"transnistria transdniestria pridnestrovie transdnistria",
     "names of the breakaway region"},
    {"kyrgyzstan kirghizia kyrgyzia kirgizia",
     "current and Soviet-era names"},
    {"bishkek frunze",
     "current vs Soviet-era name of the capital"},
    {"almaty alma",
     "current vs Soviet-era name (Alma-Ata)"},
    {"astana nursultan akmola",
     "names of Kazakhstan's capital since 1994"},
    {"ashgabat ashkhabad",
     "transliterations"},
    {"tajikistan tadjikistan tadzhikistan",
     "transliterations"},
    {"dushanbe stalinabad",
     "current vs Soviet-era name"},
    {"uzbekistan ouzbekistan",
     "English vs French spelling"},
    {"tashkent toshkent",
     "Russian vs Uzbek form"},
    {"samarkand samarqand",
     "Russian vs Uzbek form"},
    {"turkmenistan turkmenia",
     "current vs Soviet-era name"},
    {"karabakh karabagh",
     "transliterations"},
    {"yerevan erevan",
     "transliterations"},
    {"azerbaijan azerbaidjan azerbaydzhan",
     "transliterations"},
    {"aliyev aliev",
     "transliterations (Ilham Aliyev)"},
    {"pashinyan pashinian",
     "transliterations"},
    /* Middle East and North Africa: Arabic and Persian transliteration */
    {"gaddafi qaddafi kadhafi gadhafi qadhafi kadafi khadafy gadafi",
     "transliterations of Muammar Gaddafi's name"},
    {"muammar moammar moamer",
     "transliterations of the first name"},
    {"qaeda qaida",
     "transliterations (al-Qaeda, al-Qaida)"},
    {"hezbollah hizbollah hizballah hizbullah",
     "transliterations"},
    {"houthi houthis huthi huthis",
     "transliterations (Ansar Allah)"},
    {"taliban taleban",
     "transliterations"},
    {"mujahideen mujahedin mujahidin mujahedeen",
     "transliterations"},
    {"daesh daish",
     "transliterations of the Arabic acronym for Islamic State"},
    {"isil isis",
     "English acronyms of Islamic State"},
    {"shabaab shebab",
     "transliterations (al-Shabaab)"},
    {"mohammed muhammad mohamed mohammad muhammed mohamad",
     "transliterations of the name"},
    {"hussein husein hussain husain",
     "transliterations of the name"},
    {"osama usama",
     "transliterations (Osama bin Laden)"},
    {"zawahiri zawahri",
     "transliterations (Ayman al-Zawahiri)"},
    {"nasrallah nasrullah",
     "transliterations (Hassan Nasrallah)"},
    {"soleimani suleimani sulaimani solaimani",
     "transliterations (Qassem Soleimani)"},
    {"qassem qasem ghasem kassem",
     "transliterations of the first name"},
    {"khamenei khamene'i",
     "transliterations"},
    {"khomeini khomeiny",
     "transliterations"},
    {"ahmadinejad ahmadinezhad",
     "transliterations"},
    {"rouhani rohani",
     "transliterations"},
    {"raisi raeesi",
     "transliterations"},
    {"tehran teheran",
     "English vs older spelling"},
    {"isfahan esfahan",
     "transliterations"},
    {"mashhad meshed mashad",
     "transliterations"},
    {"qom qum",
     "transliterations"},
    {"assad asad",
     "transliterations (Bashar al-Assad)"},
    {"aleppo halab",
     "English vs Arabic name"},
    {"idlib idleb",
     "transliterations"},
    {"raqqa raqqah rakka",
     "transliterations"},
    {"daraa deraa dara'a",
     "transliterations"},
    {"kobani kobane",
     "transliterations"},
    {"latakia lattakia",
     "transliterations"},
    {"deir dayr",
     "transliterations (Deir ez-Zor)"},
    {"mosul mawsil",
     "English vs Arabic name"},
    {"fallujah falluja",
     "transliterations"},
    {"erbil arbil irbil hawler",
     "transliterations and the Kurdish name"},
    {"basra basrah",
     "transliterations"},
    {"karbala kerbala",
     "transliterations"},
    {"kadhimi kazemi",
     "transliterations (Mustafa al-Kadhimi)"},
    {"benghazi bengasi",
     "transliterations"},
    {"misrata misurata",
     "transliterations"},
    {"sirte surt sirt",
     "transliterations"},
    {"tobruk tubruq",
     "transliterations"},
    {"haftar hifter hafter",
     "transliterations (Khalifa Haftar)"},
    {"sarraj serraj",
     "transliterations (Fayez al-Sarraj)"},
    {"dbeibah dbeiba",
     "transliterations"},
    {"sanaa sana'a",
     "transliterations"},
    {"hodeidah hudaydah hodeida",
     "transliterations"},
    {"taiz ta'izz",
     "transliterations"},
    {"mecca makkah",
     "English vs official spelling"},
    {"medina madinah",
     "English vs official spelling"},
    {"jeddah jiddah jidda",
     "transliterations"},
    {"riyadh riyad",
     "transliterations"},
    {"younis yunis younes",
     "transliterations (Khan Younis)"},
    {"beirut beyrouth",
     "English vs French name"},
    {"haniyeh haniya",
     "transliterations (Ismail Haniyeh)"},
    {"morsi mursi",
     "transliterations (Mohamed Morsi)"},
    {"sisi sissi",
     "transliterations (Abdel Fattah el-Sisi)"},
    {"khartoum khartum",
     "transliterations"},
    {"bashir beshir",
     "transliterations (Omar al-Bashir)"},
    {"hemedti hemeti",
     "transliterations (Mohamed Hamdan Dagalo)"},
    {"istanbul constantinople",
     "current vs historical name"},
    {"izmir smyrna",
     "current vs historical name"},
    /* Africa */
    {"mogadishu mogadiscio",
     "English vs Italian name"},
    {"tigray tigrai",
     "transliterations"},
    {"timbuktu timbuctoo tombouctou",
     "English and French spellings"},
    /* South and Central Asia */
    {"kandahar qandahar",
     "transliterations"},
    {"kunduz kondoz qunduz",
     "transliterations"},
    {"helmand hilmand",
     "transliterations"},
    {"mullah mulla",
     "transliterations"},
    {"omar umar",
     "transliterations of the name"},
    {"mumbai bombay",
     "current vs colonial-era name"},
    {"chennai madras",
     "current vs colonial-era name"},
    {"kolkata calcutta",
     "current vs colonial-era name"},
    {"bengaluru bangalore",
     "current vs colonial-era name"},
    {"pune poona",
     "current vs colonial-era name"},
    {"kochi cochin",
     "current vs colonial-era name"},
    {"varanasi benares banaras",
     "current and older names"},
    {"gurugram gurgaon",
     "current vs former name"},
    {"prayagraj allahabad",
     "current vs former name"},
    {"odisha orissa",
     "current vs former name of the state"},
    {"puducherry pondicherry",
     "current vs former name"},
    {"dhaka dacca",
     "current vs former spelling"},
    {"chattogram chittagong",
     "current vs former name"},
    {"kathmandu katmandu",
     "transliterations"},
    {"myanmar burma",
     "official vs older English name"},
    {"yangon rangoon",
     "current vs colonial-era name"},
    {"naypyidaw naypyitaw",
     "transliterations"},
    /* East Asia: pinyin against older Wade-Giles and postal romanisation */
    {"beijing peking peiping",
     "pinyin vs postal and older names"},
    {"nanjing nanking",
     "pinyin vs postal romanisation"},
    {"chongqing chungking",
     "pinyin vs postal romanisation"},
    {"tianjin tientsin",
     "pinyin vs postal romanisation"},
    {"xinjiang sinkiang",
     "pinyin vs postal romanisation"},
    {"urumqi urumchi",
     "pinyin vs older romanisation"},
    {"qingdao tsingtao",
     "pinyin vs postal romanisation"},
    {"hangzhou hangchow",
     "pinyin vs postal romanisation"},
    {"xiamen amoy",
     "pinyin vs older name"},
    {"fuzhou foochow",
     "pinyin vs postal romanisation"},
    {"shenyang mukden",
     "pinyin vs older Manchu name"},
    {"guilin kweilin",
     "pinyin vs postal romanisation"},
    {"suzhou soochow",
     "pinyin vs postal romanisation"},
    {"zedong tsetung tse",
     "pinyin vs Wade-Giles (Mao Zedong)"},
    {"zhou chou",
     "pinyin vs Wade-Giles (Zhou Enlai)"},
    {"deng teng",
     "pinyin vs Wade-Giles (Deng Xiaoping)"},
    {"xiaoping hsiaoping",
     "pinyin vs Wade-Giles"},
    {"jiang chiang",
     "pinyin vs Wade-Giles (Chiang Kai-shek, Jiang Jieshi)"},
    {"taipei taibei",
     "Wade-Giles vs pinyin"},
    {"kaohsiung gaoxiong",
     "Wade-Giles vs pinyin"},
    {"kuomintang guomindang",
     "Wade-Giles vs pinyin"},
    {"tibet xizang",
     "English vs Chinese name"},
    {"pyongyang pyeongyang",
     "McCune-Reischauer vs Revised Romanisation"},
    {"busan pusan",
     "Revised vs older romanisation"},
    {"incheon inchon",
     "Revised vs older romanisation"},
    {"daegu taegu",
     "Revised vs older romanisation"},
    {"gwangju kwangju",
     "Revised vs older romanisation"},
    {"jeju cheju",
     "Revised vs older romanisation"},
    {"kaesong gaeseong",
     "McCune-Reischauer vs Revised Romanisation"},
    {"yongbyon yeongbyeon",
     "McCune-Reischauer vs Revised Romanisation"},
    /* Europe: local and English names */
    {"warsaw warszawa",
     "English vs Polish name"},
    {"krakow cracow krakau",
     "Polish, English and German names"},
    {"gdansk danzig",
     "current vs German name"},
    {"wroclaw breslau",
     "current vs German name"},
    {"poznan posen",
     "current vs German name"},
    {"prague praha prag",
     "English, Czech and German names"},
    {"bratislava pressburg",
     "current vs German name"},
    {"bucharest bucuresti",
     "English vs Romanian name"},
    {"belgrade beograd",
     "English vs Serbian name"},
    {"pristina prishtina",
     "transliterations"},
    {"kosovo kosova",
     "Serbian vs Albanian form"},
    {"skopje skopie",
     "transliterations"},
    {"tirana tirane",
     "Italian-based vs Albanian form"},
    {"vilnius vilna wilno",
     "Lithuanian, Yiddish-Russian and Polish names"},
    {"tallinn tallin reval",
     "current, older and German names"},
    {"munich muenchen",
     "English vs German name"},
    {"nuremberg nurnberg nuernberg",
     "English vs German name"},
    {"zurich zuerich",
     "English vs German name"},
    {"geneva geneve genf",
     "English, French and German names"},
    {"brussels bruxelles brussel",
     "English, French and Dutch names"},
    {"antwerp antwerpen anvers",
     "English, Dutch and French names"},
    {"ghent gent gand",
     "English, Dutch and French names"},
    {"lisbon lisboa",
     "English vs Portuguese name"},
    {"seville sevilla",
     "English vs Spanish name"},
    {"zaragoza saragossa",
     "Spanish vs English name"},
    {"catalonia catalunya cataluna",
     "English, Catalan and Spanish names"},
    {"turin torino",
     "English vs Italian name"},
    {"milan milano",
     "English vs Italian name"},
    {"naples napoli",
     "English vs Italian name"},
    {"venice venezia",
     "English vs Italian name"},
    {"florence firenze",
     "English vs Italian name"},
    {"athens athina athinai",
     "English vs Greek names"},
    {"thessaloniki salonika salonica",
     "current vs older names"},
    {"copenhagen kobenhavn",
     "English vs Danish name"},
    {"gothenburg goteborg",
     "English vs Swedish name"},
    {"moscow moskva",
     "English vs Russian name"},
};

typedef struct group {
    char *words[GROUP_MAX]; /* folded, owned */
    size_t count;
    int added;              /* 1: from a file (kept by _save) */
} group;

static struct {
    group *groups;
    size_t count, cap;
    uint32_t *map;          /* open addressing on word hash: word ref+1 */
    size_t slots;           /* power of two */
    size_t words;           /* words in the map */
    int ready;
} tab;

static pthread_once_t builtin_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t tab_mu = PTHREAD_MUTEX_INITIALIZER;

static uint64_t
word_hash(const char *s)
{
    return ndx_mix64(ndx_fnv1a64(s, strlen(s)));
}

/* A map entry packs the group (high bits) and the word's index in it. */
#define REF(g, w) ((uint32_t)(g) * GROUP_MAX + (uint32_t)(w))

static const char *
ref_word(uint32_t ref)
{
    return tab.groups[ref / GROUP_MAX].words[ref % GROUP_MAX];
}

/* The map slot of word: its entry, or the empty slot where it would go. */
static size_t
map_slot(const char *word)
{
    size_t s = (size_t)word_hash(word) & (tab.slots - 1);

    while (tab.map[s] && strcmp(ref_word(tab.map[s] - 1), word) != 0)
        s = (s + 1) & (tab.slots - 1);
    return s;
}

static ndx_status
map_grow(void)
{
    size_t slots = tab.slots ? tab.slots * 2 : 1024, old = tab.slots, i;
    uint32_t *om = tab.map, *nm = calloc(slots, sizeof *nm);

    if (!nm)
        return ndx_error(NDX_ENOMEM, "out of memory (variants)");
    tab.map = nm;
    tab.slots = slots;
    for (i = 0; i < old; i++)
        if (om[i])
            tab.map[map_slot(ref_word(om[i] - 1))] = om[i];
    free(om);
    return NDX_OK;
}

static long
find_group(const char *word)
{
    size_t s;

    if (!tab.slots)
        return -1;
    s = map_slot(word);
    return tab.map[s] ? (long)((tab.map[s] - 1) / GROUP_MAX) : -1;
}

/* Adds word (folded) to group g unless it is there. */
static ndx_status
group_put(size_t g, const char *word, const char *where)
{
    group *gr = &tab.groups[g];
    size_t i;
    ndx_status st;

    for (i = 0; i < gr->count; i++)
        if (strcmp(gr->words[i], word) == 0)
            return NDX_OK;
    if (gr->count == GROUP_MAX)
        return ndx_error(NDX_EINVAL, "%s: more than %d variants of '%s'",
                         where, GROUP_MAX, gr->words[0]);
    if ((tab.words + 1) * 2 > tab.slots && (st = map_grow()))
        return st;
    if (!(gr->words[gr->count] = strdup(word)))
        return ndx_error(NDX_ENOMEM, "out of memory (variants)");
    tab.map[map_slot(word)] = REF(g, gr->count) + 1;
    gr->count++;
    tab.words++;
    return NDX_OK;
}

/* Folds one written word into out; NDX_EINVAL when it is not one word. */
static ndx_status
fold_word(const char *w, size_t len, char *out, size_t cap, const char *where)
{
    size_t i;

    for (i = 0; i < len; i++)
        if (w[i] == '-' || w[i] == '.' || w[i] == '/')
            return ndx_error(NDX_EINVAL,
                             "%s: '%.*s' is not one word; variants are "
                             "single words (write al-Qaida as qaida)",
                             where, (int)len, w);
    if (!ndx_fold(w, len, out, cap))
        return ndx_error(NDX_EINVAL, "%s: '%.*s' has no letter or digit",
                         where, (int)len, w);
    return NDX_OK;
}

/* Adds a group of words (spaces or commas between them): it joins the
 * group of any word already known. */
static ndx_status
add_line(const char *line, int added, const char *where)
{
    char folded[GROUP_MAX][NDX_TERM_MAX + 1];
    size_t n = 0, i;
    long g = -1;
    const char *p = line;
    ndx_status st;

    while (*p) {
        size_t len;

        while (*p == ' ' || *p == ',')
            p++;
        if (!*p)
            break;
        for (len = 0; p[len] && p[len] != ' ' && p[len] != ','; len++)
            ;
        if (n == GROUP_MAX)
            return ndx_error(NDX_EINVAL, "%s: more than %d variants in one "
                             "group", where, GROUP_MAX);
        if ((st = fold_word(p, len, folded[n], sizeof folded[n], where)))
            return st;
        n++;
        p += len;
    }
    if (n < 2)
        return ndx_error(NDX_EINVAL, "%s: a group needs at least two "
                         "spellings", where);
    for (i = 0; i < n && g < 0; i++)
        g = find_group(folded[i]);
    if (g < 0) {
        if (ndx_grow((void **)&tab.groups, &tab.cap, tab.count + 1,
                     sizeof *tab.groups, 256))
            return ndx_error(NDX_ENOMEM, "out of memory (variants)");
        memset(&tab.groups[tab.count], 0, sizeof *tab.groups);
        g = (long)tab.count++;
    }
    tab.groups[g].added |= added;
    for (i = 0; i < n; i++) {
        long other = find_group(folded[i]);

        if (other >= 0 && other != g)
            return ndx_error(NDX_EINVAL, "%s: '%s' is already a variant of "
                             "'%s'", where, folded[i],
                             tab.groups[other].words[0]);
        if ((st = group_put((size_t)g, folded[i], where)))
            return st;
    }
    return NDX_OK;
}

static void
load_builtins(void)
{
    size_t i;

    for (i = 0; i < sizeof builtins / sizeof builtins[0]; i++)
        if (add_line(builtins[i].words, 0, "built-in variants") != NDX_OK)
            break; /* out of memory: the table holds what fitted */
    tab.ready = 1;
}

static void
ensure_builtins(void)
{
    pthread_once(&builtin_once, load_builtins);
}

size_t
ndx_variants_lookup(const char *word, const char *const **members)
{
    long g;

    ensure_builtins();
    g = find_group(word);
    if (g < 0)
        return 0;
    *members = (const char *const *)tab.groups[g].words;
    return tab.groups[g].count;
}

size_t
ndx_variants_builtin_count(void)
{
    return sizeof builtins / sizeof builtins[0];
}

ndx_status
ndx_variants_load(const char *path)
{
    FILE *f;
    char line[2048], where[600];
    long lineno = 0;
    ndx_status st = NDX_OK;

    ensure_builtins();
    if (!(f = fopen(path, "r")))
        return ndx_error(errno == ENOENT ? NDX_ENOTFOUND : NDX_EIO,
                         "open %s: %s", path, strerror(errno));
    pthread_mutex_lock(&tab_mu);
    while (fgets(line, sizeof line, f)) {
        size_t len = strlen(line);
        char *p, *tab_at;

        lineno++;
        if (len == sizeof line - 1 && line[len - 1] != '\n') {
            st = ndx_error(NDX_EINVAL, "%s:%ld: line too long", path,
                           lineno);
            break;
        }
        if (!(p = ndx_config_line(line)))
            continue;
        if ((tab_at = strchr(p, '\t')) != NULL)
            *tab_at = '\0'; /* the reason, for people */
        snprintf(where, sizeof where, "%s:%ld", path, lineno);
        if ((st = add_line(p, 1, where)))
            break;
    }
    if (!st && ferror(f))
        st = ndx_error(NDX_EIO, "read %s: %s", path, strerror(errno));
    pthread_mutex_unlock(&tab_mu);
    fclose(f);
    return st;
}

ndx_status
ndx_variants_added(ndx_buf *out)
{
    size_t g, i, any = 0;
    ndx_status st = NDX_OK;

    ensure_builtins();
    pthread_mutex_lock(&tab_mu);
    for (g = 0; !st && g < tab.count; g++) {
        if (!tab.groups[g].added)
            continue;
        if (!any++)
            st = ndx_buf_puts(out, NDX_VARIANTS_HEADER);
        for (i = 0; !st && i < tab.groups[g].count; i++) {
            st = ndx_buf_puts(out, tab.groups[g].words[i]);
            if (!st)
                st = ndx_buf_putc(out, i + 1 < tab.groups[g].count ? ' '
                                                                  : '\n');
        }
    }
    pthread_mutex_unlock(&tab_mu);
    return st;
}
