"""The most common family names of the region: a surname on this list never counts alone by itself.

A family name alone ("Umarova said") names the watched person only when few
other people carry it. Two published frequency lists decide which are common:

- ``KAZAKHSTAN_2014``: the 33 most common surnames in Kazakhstan and how many
  people bore each, as the Ministry of Justice of the Republic of Kazakhstan
  published them in January 2014 (reported by Tengrinews and others):
  Akhmetov(a) 73,627, Omarov(a) 45,123, Kim 42,274, ... Kusainov(a) 10,103.
- ``KZ_TOP`` and ``RU_TOP``: the 1,000 most frequent last names among users in
  Kazakhstan and in Russia in names-dataset 3.3.1 (PyPI, MIT licence; its author
  counted them from a 2021 dump of Facebook profiles; only these aggregate ranks
  are used, nothing about any person), as written there (Cyrillic or Latin),
  most frequent first, patronymics left out; ``GB_TOP`` and ``US_TOP`` the 500
  most frequent in the United Kingdom and the United States, for the English
  press. ``tools/derive_surnames.py`` makes these blocks from the package's
  data file.

Both genders count: Umarov makes Umarova common and back (:func:`common_surnames`).
"""

from __future__ import annotations

from functools import lru_cache

from crawler.matching.inflect import other_gender
from crawler.matching.textnorm import fold_key

KAZAKHSTAN_2014 = """
Ахметов Омаров Ким Оспанов Иванов Алиев Сулейменов Искаков Абдрахманов Ибрагимов Калиев
Садыков Ибраев Кузнецов Попов Смагулов Абдуллаев Исаев Султанов Юсупов Исмаилов Нургалиев
Каримов Серик Ли Цой Амангельды Болат Бондаренко Марат Серикбай Мурат Кусаинов
"""

KZ_TOP = """
Ахметова Ким Ахметов Kim Омарова Оспанова Иванова Алиева Иванов Алиев Сулейменова Омаров
Искакова Калиева Оспанов Ли Абдрахманова Ибраева Садыкова Смагулова Искаков Сулейменов Калиев
Пак Kz Нургалиева Султанова Ибрагимова Исаева Абдрахманов Каримова Садыков Ибрагимов Ибраев
Асанова Цой Кусаинова Смагулов Жумабаева Султанов Аубакирова Касымова Каримов Жунусова Абишева
Тулегенова Юсупова Исаев Муканова Абдуллаев Мусаева Нургалиев Исмаилова Серик Касенова Хан
Асанов Муратова Сыздыкова Абдуллаева Мусина Аскарова Серикбаева Мукашева Юсупов Петров Шарипова
Мусаев Сарсенбаева Исмаилов Жумабаев Рахимова Утегенова Omarova Кузнецова Ильясова Жакупова
Жусупова Рахметова Тулегенов Касымов Аскаров Нуржанова Абишев Рамазанова Амирова Муратов Шарипов
Жумабекова Кусаинов Хасенова Сарсенбаев Серикбаев Марат Жунусов Рахимов Ержанова Серикова
Жумагалиева Сыздыков Аубакиров Петрова Мурат Сапарова Назарова Ospanova Omarov Кудайбергенова
Муканов Кожахметова Aliev Попова Кенжебаева Мустафина Шевченко Болат Жан Али Akhmetova Ахмет
Абенова Айтжанова Нуржанов Утегенов Ильясов Оразбаева Мамедов Умарова Ахмедов Кадыров Мукашев
Касенов Жумагулова Alieva Ахметжанова Сериков Сарсенова Nur Нур Аманова Кадырова Хасанов Ержанов
Хасанова Султан Тен Базарбаев Iskakova Pak Кузнецов Жумагалиев Васильева Сапаров Кудайбергенов
Базарбаева Амиров Рахметов Рамазанов Аманжолова Мусин Усенова Абилова Попов Tsoy Жусупов
Жумабеков Сарсенов Бек Исмагулова Назаров Смирнова Умаров Serik Курбанов Оразбаев Хамитова
Курбанова Ahmetova Куаныш Бондаренко Ергалиева Кенжебаев Даулетова Ospanov Садвакасова Жакупов
Нурлан Жаксылык Akhmetov Мухамеджанова Айтбаева Усенов Astana Аманов Идрисова Тажибаева Хасенов
Ibragimov Сариева Маханова Кан Альжанова Абилов Кожахметов Волкова Жаксылыкова Абуова Адилова
Коваленко Смаилова Bek Васильев Рахимжанова Алибекова Аманжолов Аскар Хамзина Ahmetov Almaty
Аманбаева Ismailov Ахмедова Алимова Айтжанов Айтбаев Курманова Муханова Исабекова Курмангалиева
Смирнов Даулетов Бейсенова Жуманова Ергалиев Волков Абенов Жумагулов Байжанова Karimov Мамедова
Сариев Тажибаев Smagulova Романова Аман Бекенова Мустафин Боранбаев Бижанова Боранбаева Хамитов
Руслан Омар Асылбекова Suleimenova Sultanov Толеген Sultanova Ниязова Есенова Жумашева Алимбаева
Сабитова Махамбетова Ibragimova Елена Сабирова Балтабаева Кайрат Бисенова Жанабаева Жолдасова
Андреева Ахметжанов Жаксылыков Алдабергенова Карибаева Астана Бауыржан Алтынбекова Ашимова
Кравченко Дуйсенова Морозова Ержан Имангалиева Karimova Соколова Орынбаева Sadykova Усманова
Александр Сыдыкова Канат Куандыкова Iskakov Бейсембаева Ivanov Маликова Ибраимова Исмагулов
Толегенова Шакирова Арман Иманбаева Ivanova Abdullaev Bolat Ткаченко Усманов Болатова Орынбаев
Наурызбаева Алимов Адилов Касимова Орынбасар Murat Курманбаева Болатов Дуйсенбаева Новикова
Татьяна Маханов Алпысбаева Мухтарова Аманбаев Казиева Мухамеджанов Маратов Талгат Наталья
Павлова Kalieva Галиева Калдыбаева Дуйсенов Бейсенбаева Исакова Касымбекова Askarova Ниязов
Бойко Kaliev Балтабаев Нурманова Идрисов Карабаева Абуов Маратова Хамзин Сабиров Камалова
Избасарова Альжанов Юлдашев Габдуллина Алибеков Нугманова Утебаева Садуакасова Мусабекова
Алтаева Жуманов Даулет Нурик Ismailova Асан Ашимов Куанышева Бекжанова Махамбетов Серикбай
Нуржан Ермекова Жаксыбаева Zh Валиева Толегенов Сеитова Есенов Тулебаева Жумадилова Нурбаева
Умбетова Жолдасов Marat Андреев Бекенов Тлеубаева Бисенов Касимов Кадирова Сыдыков Сагындыкова
Алексеева Колесникова Шаяхметова Камалов Михайлова Сергеева Даутова Иманбаев Амантай Уразбаева
Курмангалиев Орлова Степанова Жумабек Бейсенов Мамбетов Оразов Suleimenov Оразбекова Уалиева
Асылбек Жанабаев Каратаева Макарова Нурмагамбетова Ерлан Мамбетова Утепова Кудайберген Null
Макаров Нурпеисова Молдабекова Smagulov Бакирова Курманов Байжанов Мухтаров Muratova Аманжол
Асылбеков Алимбаев Бижанов Дюсембаева Алпысбаев Имашева Исабаева Иманкулова Сембаева Сулейманова
Askarov Сергеев Сарсембаева Азамат Оразова Смаилов Умбетов Ten Бакыт Куандыков Сабитов
Кенжебекова Набиев Романов Шакиров Савченко Сергей Зайцева Маликов Досанова Жолдыбаева Amangeldi
Садвакасов Ирина Муханов Алтынбеков Калдыбаев Askar Мельникова Смайлова Serikova Sadykov Исаков
Ibraeva Молдабаева Алимжанова Соколов Муса Рахимжанов Aubakirova Сатыбалдиева Алибаева Abisheva
Захарова Рахманова Егорова Кадиров Светлана Muratov Закирова Есжанова Избасаров Орынбасарова
Карабаев Акимова Никитина Алдабергенов Турсунов Нурманов Амантаева Динара Айдарова Ермекбаева
Утепов Ермеков Имангалиев Жумашев Nurlan Шмидт Новиков Карибаев Алтаев Сатыбалдиев Дуйсенбаев
Наурызбаев Исабеков Жумабай Набиева Яковлева Федорова Турганбаева Алимбекова Юлдашева Махметова
Канатова Mamedov Сулейманов Семенова Темиров Козлова Медведева Марченко Сагындыков Дюсенова
Жунисова Мустафаева Баха Абдиева Жаксыбаев Ермек Досжанова Бакиров Морозов Казбекова Serikov
Ибраимов Оспан Орынбасаров Валиев Ан Кенжегалиева Жуматаева Бекжанов Аширова Дарибаева Мустафаев
Павлов Тян Темирова Курманбаев Колесников Asanova Григорьева Кузьмина Tulegenova Мухамбетова
Рахманов Мажитова Ералиева Лебедева Миллер Zhan Гончарова Ольга Даутов Мусабаева Кабиева
Жолдыбаев Сакенова Хайруллина Козлов Мурзагалиева Бегалиева Есенбаева Уразова Исламов Нуртазина
Мусабеков Насырова Исламова Махмудов Михайлов Казиев Омарбекова Турсынбаева Темирбекова Бакытжан
Каратаев Елемесова Абдуллина Малик Тулебаев Бейсембаев Kusainova Мырзахметова Темиргалиева
Mukanova Нурмагамбетов Джумабаева Isaev Ковалева Мадиева Амангелди Садуакасов Куанышев
Аширбекова Исабаев Темирбаева Алтынбек Ramazanova Салимова Миронова Рустемова Сейдахметова
Амантаев Тусупова Байзакова Умирзакова Amirova Asanov Абдиев Борисова Николаева Марина Чернова
Алибек Галиев Нурбаев Мукушева Сеитов Досжанов Nurgalieva Шаймерденова Нурмаганбетова Нуралиева
Kazakhstan Нурахметова Махмутова Рахимбаева Тлеубаев Касым Касымбеков Abdullaeva Абдурахманов
Куспанова Кенжебеков Гумарова Алексеев Александрова Sharipova Жиенбаева Есимова Мырзабекова
Айдаров Максимова Макс Руденко Sharipov Жапарова Ермекбаев Елубаева Хусаинова Бейсенбаев
Нурпеисов Алимжанов Тулеуова Елемесов Акимов Нуртаева Молдабеков Утебаев Елеусизова Юнусов
Мажитов Рамазан Mukasheva Utegenova Утешова Айдарбекова Уразбаев Аюпова Аширов Батырбекова
Даулетбаева Османов Клименко Иса Шакенова Абай Абжанова Кали Хван Базарова Жумадилов Куандык
Нугманов Isaeva Максимов Дмитриева Белова Орлов Литвинова Фролова Данияр Турсунова Юнусова
Нурланова Aubakirov Мансурова Узакбаев Нурбекова Алия Абиева Степанов Tulegenov Майер Abishev
Ерболат Узакбаева Сарбасова Жакенова Аханова Жуматаев Абдулла Рустемов Жукова Мадина Захаров
Ербол Дос Имашев Жанат Шаяхметов Турганбаев Досанов Сапарбаева Сакенов Иманкулов Ережепова
Рысбаева Кожанова Сарсембаев Umarov Амир Павленко Жалгасбаева Ералиев Abdrahmanova Есжанов
Габбасова Сулеймен Берик Оразбеков Югай Уалиев Арыстанова Данилова Saparov Абдрахман Алибаев
Султанбекова Умирзаков Молдабаев Рысбекова Абдраманова Максутова Musaev Егоров Исмайлова
Баймуратова Айгерим Амангалиева Нургали Ибрагим Беков Абдикаримов Бисенгалиева Мырзабаева
Абилдаева Турсынбаев Ramazanov Османова Баратова Семенов Зайцев Осипова Ислам Мухаметжанова
Мухамбетов Габдуллин Жунисов Смайлов Камбарова Абдикаримова Ескалиева Отарбаева Гасанов
Амирханова Айнур Saparova Жанар Баймагамбетова Айгуль Азизов Ааа Богданова Ильина Насыров Самат
Бекбаева Tolegen Тлегенова Кудабаева Дюсембаев Сейтова Кенжегалиев Николаев Лысенко Петренко
Жанна Жалгасбаев Канатов Оразалиева Маханбетова Уразов Amirov Кот Владимир Базаров Сорокина
Abdrakhmanova Бегалиев Булатова Аманкулова Sarsenova Абилдаев Ерназарова Хусаинов Темирбаев Шин
Гульмира Карим Бабаев Musaeva Медведев Smailova Мельников Мельник Григорьев Кусайнова Сапар
Utegenov Амангалиев Есенгалиева Турлыбекова Закиров Курмашева Джумагалиева Nurgaliev Yusupov
Муслим Яковлев Щербакова Неважно Садуова Байменова Мырзабеков Шакенов Маке Syzdykova Алимбетова
Кожабекова Молдашева Сактаганова Жиенбаев Nazarov Ruslan Королева Андрей Василенко Никитин
Сатыбалды Абдукаримова Ibraev Максутов Баймуханова Мурзагалиев Кумарова Рысбаев Kanat Kurbanov
Мансуров Борисов Власова Сидоренко Жапаров Дюсенов Шалабаева Елубаев Нурмаганбетов Тажиева
Акишева Молдахметова Баратов Юлия Сембаев Даниярова Салимов Nurik Нуралиев Давыдова Омарбеков
Алимбеков Жакипова Аязбаева Нурланов Ережепов Арыстанов Zhakupova Гуля Мухтар Мусабаев Есимов
Аширбеков Кенес Kairat Молдагалиева Ихсанова Турсын Камбаров Aliyev Исмайлов Махмудова Иманова
Воробьева Тарасова Матвеева Mustafina Дарибаев Бектурганова Куатова Бекетова Еримбетова
Жетписбаева Нурбеков Алимкулова Mukanov Кузембаева Дуйсебаева Утешов Talgat Белов Полякова
Федоров Макашева Базарбай Кушербаева Амренова Айка Есенбаев Успанова Акылбекова Джумабаев
Айткулова Керимбекова Гумаров Нурмуханова Калинина Куликова Тажиев Темирханова Жусипова
Баймуратов Абдуллин Кожанов Атырау Кыдырбаев Azamat Usmanov Umarova Антонова Белоусова Алина
Рыскулова Мырзахметов
"""
RU_TOP = """
Иванова Иванов Петров Магомедов Кузнецова Петрова Смирнова Попова Кузнецов Васильева Магомедова
Смирнов Алиев Попов Васильев Волкова Романова Ivanov Новикова Андреева Морозова Алиева Соколова
Павлова Михайлова Ivanova Алексеева Волков Макарова Сергеева Андреев Николаева Егорова Сергеев
Захарова Шевченко Степанова Павлов Михайлов Алексеев Соколов Новиков Морозов Никитина Орлова
Романов Ким Федорова Ибрагимов Макаров Семенова Зайцева Лебедева Яковлева Александрова Миронова
Егоров Николаев Григорьева Степанов Козлова Фролова Ахмедов Захаров Максимова Белова Бондаренко
Борисова Коваленко Козлов Кузьмина Никитин Семенов Федоров Орлов Зайцев Александр Медведева Кот
Дмитриева Максимов Исаев Кравченко Антонова Александров Елена Яковлев Тарасова Исаева Мельникова
Матвеева Соловьева Белов Григорьев Котова Жукова Мамедов Фролов Полякова Назаров Ковалева
Власова Борисов Сорокина Ильина Антонов Ткаченко Каримов Королева Гаджиев Лебедев Юсупов
Богданова Филиппова Колесникова Данилова Кузьмин Ибрагимова Наталья Сергей Smirnova Гончарова
Дмитриев Чернова Сидоров Давыдова Воробьева Фомина Назарова Татьяна Киселева Куликова Медведев
Kim Абрамова Осипова Тимофеева Гусева Сидорова Калинина Petrov Абдуллаев Денисова Миронов
Тарасов Жуков Курбанов Карпова Popova Титова Petrova Ли Матвеев Пономарева Мельников Беляева
Казакова Афанасьева Гасанов Сорокин Ольга Савченко Шарипов Ефимова Magomedov Aliev Щербакова
Маркова Филиппов Григорян Ильин Поляков Данилов Тихонова Бойко Ирина Исмаилов Гаврилова Баранова
Соловьев Герасимова Kuznetsova Богданов Котов Власов Чернов Федотова Popov Денисов Марченко
Мусаев Фомин Андрей Рамазанов Карпов Колесников Гусев Дмитрий Мальцева Воробьев Комарова
Филатова Ермакова Светлана Хасанов Давыдов Тимофеев Савельева Журавлева Алексей Коновалова
Арутюнян Баранов Абрамов Осипов Smirnov Ковалев Климова Киселев Куликов Гончаров Volkova Казаков
Белый Юлия Ахмедова Ефремова Наумова Титов Каримова Виноградова Гаджиева Саидов Romanova
Гусейнов Щербаков Марина Трофимова Юсупова Гаврилов Афанасьев Горбунова Мартынова Черных
Потапова Лазарева Калинин Анисимова Овчинникова Беляев Ефимов Никифорова Князева Малышева
Крылова Федотов Рахимов Руденко Архипова Омаров Белоусова Novikova Sokolova Емельянова Тихонов
Герасимов Марков Быкова Кудрявцева Екатерина Pavlova Сулейманов Morozova Анастасия Пономарев
Маслова Коновалов Кириллова Курбанова Соболева Комаров Логинова Волк Воронина Королев Andreeva
Нестерова Ермаков Плотникова Владимир Петренко Лысенко Ефремов Alieva Kuznetsov Леонова Мартынов
Голубева Мальцев Быков Самойлова Горбунов Моисеева Умаров Клименко Наумов Сидоренко Юдина
Павленко Родионова Mamedov Потапов Петросян Рамазанова Литвинова Романенко Лис Савина Мельник
Филатов Цветкова Гришина Ушакова Евгений Мария Хасанова Трофимов Василенко Громова Михеева
Кондратьева Крылов Овчинников Громов Кириллов Султанов Журавлев Гордеева Хачатрян Савельев
Емельянов Акопян Неважно Третьякова Семёнов Volkov Makarova Анна Демидова Панова Мамедова
Никифоров Климов Некрасова Махмудов Левченко Ершова Grigoryan Fedorova Magomedova Евдокимова
Краснова Карпенко Калашникова Виноградов Ларина Karimov Лазарев Симонова Елисеева Прохорова
Фёдоров Князев Пупкин Ibragimov Анисимов Казанцева Воронин Маслов Сафаров Бирюкова Orlova
Сафронова Токарева Фоменко Хакимов Архипов Гасанова Калашников Харитонова Stepanova Sergeeva
Белоусов Костина Бородина Sokolov Semenova Шакирова Egorova Плотников Сулейманова Пак Семёнова
Малышев Фадеева Жданова Nikolaeva Шестакова Vasileva Абдуллаева Султанова Шишкина Коваль Юрченко
Панченко Исмаилова Раджабов Игнатьева Суворова Сафонова Авдеева Pavlov Nikitina Никулина Мусаева
Акимова Голубев Fox Romanov Расулов Миллер Мирошниченко Галкина Мирзоев Омарова Novikov Лобанова
Фёдорова Харченко Кудрявцев Зуева Константинова Ковальчук Соболев Кузьменко Andreev Родионов
Лукьянова Абдулаев Гришин Иван Савин Киреева Исаков Сафина Логинов Мороз Lebedeva Morozov Рябова
Makarov Fedorov Кондратьев Исакова Леонов Нестеров Кириченко Самойлов Краснов Валиев Котик
Моисеев Литвинов Чернышова Максим Панов Мишина Макаренко Майер Кадыров Kozlova Леонтьева Ушаков
Нестеренко Закирова Шарипова Рожкова Шакиров Короткова Ершов Костенко Бондарева Воронова Юдин
Приходько Nazarov Borisova Белякова Шишкин Михеев Прохоров Майорова Филимонова Аксенова Игнатьев
Тарасенко Виктория Мищенко Терентьева Alex Казанцев Токарев Карапетян Кравцова Бирюков
Пономаренко Дьяченко Васин Shevchenko Тимошенко Маркина Бабаев Frolova Belova Михаил Egorov
Евдокимов Скворцова Амиров Владимирова Stepanov Саркисян Кудряшова Ларионова Semenov Хохлова
Зуев Усманов Закиров Гусейнова Король Агафонова Симонов Демченко Ермолаева Валеева Харитонов
Азизов Самсонова Юнусов Гордеев Зотова Спиридонова Yakovleva Сафронов Ульянова Садыков Третьяков
Воронцова Демина Оксана Румянцева Фадеев Садыкова Sergeev Борисенко Радченко Нечаева Бондарь
Погосян Саргсян Халилов Kozlov Демидов Ахметова Черепанова Крюкова Некрасов Кузина Isaeva
Nikitin Mironova Суворов Никулин Жданов Галкин Костин Лобанов Макеева Назаренко Акимов Черкасова
Dmitrieva Nguyen Orlov Nikolaev Константинов Яковенко Артемьева Шевцова Валиева Терещенко
Головина Воронов Зверева Петухова Abdullaev Чистякова Лукина Зарипов Тищенко Сафонов Elena
Yusupov Галина Малахова Литвиненко Гордиенко Устинова Белая Зарипова Шестаков Кожевникова
Лукьянов Копылова Абдурахманов Bondarenko Владимиров Филимонов Молчанова Kovalenko Антипова
Олейник Бородин Vasilev Чернышева Пронина Елисеев Medvedeva Тихомирова Koroleva Рябов Сергиенко
Денисенко Пахомова Аветисян Манукян Бондарев Sargsyan Ахметов Сазонова Black Рустамов Степаненко
Платонова Иващенко Исламов Большакова Роман Свиридова Antonova Игнатова Селезнева Кулакова
Агеева Серова Сафин Дорофеева Isaev Цветков Николай Tarasova Любимова Дроздова Казарян Зинченко
Володина Курбонов Надежда Шаповалова Никонова Левина Мартиросян Ситникова Варданян Цой Шилова
Kovaleva Lebedev Kuzmina Прокопенко Людмила Терехова Колесник Федоренко Хохлов Авдеев Vlasova
Еремина Саакян Хакимова Панина Фокина Miller Bek Alekseeva Ковалёва Леонтьев Власенко Черникова
Зорина Matveeva Шевчук Блинова Булатова Терентьев Грачева Aliyev Сотникова Денис Дементьева
Киреев Носова Руслан Petrosyan Belov Беляков Мещерякова Мишин Евсеева Петухов Аракелян Зимина
Родина Корнеева Мамаева Ткачева Боброва Алимов Валеев Saidov Амирова Danilova Суханова Королёва
Кравцов Мухина Керимов Мирзаев Borisov Шмидт Максименко Круглова Скворцов Позднякова Вишневская
Чернышов Зотов Галимова Корниенко Sorokina Горшкова Бычкова Кудряшов Винокурова Лапина Магамедов
Мамаев Бобров Ермолаев Османов Меркулова Коротков Melnikova Мкртчян Kiseleva Соловьёва Рыбакова
Тюрина Мартыненко Уварова Anna Bogdanova Бабенко Герасименко Долгова Игнатенко Ларин Frolov
Науменко Веселова Величко Идрисов Глухова Kot Olga Саша Якубов Митрофанова Агафонов Черепанов
Головин Рожков Сычева Кузин Пронин Nazarova Abramova Трифонова Румянцев Ковалёв Горбачева Зверев
Швецова Федосеева Сабиров Хайруллина Ларионов Субботина Umarov Ismailov Майоров Шарапова Алекс
Sharipov Кошкина Зубкова Рахимова Усманова Крюков Ширяева Пахомов Набиев Маликова Швец Мухин
Лаптева Кошелева Дорошенко Антипов Абдулаева Юлдашев Долгих Шилов Antonov Спиридонов Ищенко
Соловьёв Завьялова Зиновьева Оганесян Муратов Маликов Игорь Кочеткова Гладких Ульянов Karapetyan
Мурадов Галимов Кадырова Игнатов Корнилова Киселёва Прокофьева Гуляева Москаленко Кононова
Широкова Kalinina Guseva Denisova Овсянникова Лукин Носов Серов Хайдаров Кожевников Шадрина
Самсонов Sidorova Диденко Yakovlev Маркин Сабирова Николаенко Еременко Мирный Ahmedov Titova
Балашова Zhukova Osipova Чистяков Нечаев Фирсова Колосова Бычков Алексеенко Копылов Рубцова
Сазонов Али Шевцов Тихомиров Kravchenko Filippova Малахов Платонов Блинов Яценко Рыжкова Лаврова
Воробьёв Горшков Шабанова Kotova Молчанов Tkachenko Дроздов Корнеев Кулаков Фокин Ситников
Солдатова Умарова Воронцов Артемьев Рыжова Cat Салимов Азимов Астахова Medvedev Олег Королёв
Воробьёва Селиванова Кулешова Русских Шаповалов Салихов Устинов Бабаева Ветров Kuzmin Павел
Polyakova Васина Kolesnikova Остапенко Муратова Еремеева Сальникова Шабанов Дегтярева Ник Хан
Носкова Никонов Гущина Давлатов Ильясов Ашуров Якимова Chernova Баринова Karpova Аникина
Березина Степанян Пархоменко Баженова Черкасов Дима Иванченко Холод Мирная Ibragimova Агаев
Kazakova Zakharova Рыбаков Новоселова Чиркова Шульга Юрьева Багдасарян Геворгян Хайруллин
Евгения Мироненко Артамонова Решетникова Бочарова Ка Макс Efimova Булатов Левин
"""

GB_TOP = """
Smith Jones Williams Brown Taylor Davies Wilson Khan Evans Thomas Johnson Roberts Walker
Thompson Patel Robinson Wright White Hughes Green Martin Lee Edwards James Lewis Jackson Singh
Clarke Hall Harris Scott Wood Clark King Moore Turner Hill Ward Cooper Hussain Morgan Morris
Kelly Watson Anderson Campbell Young Harrison Baker Allen Mitchell Bell Phillips Davis Miller
Murphy Stewart Parker Price Bennett Shaw Simpson Collins Carter Murray Richardson Cook Marshall
Bailey Gray Griffiths Adams Graham Richards Louise Ellis Cox Foster Rose Robertson Wilkinson
Russell Mason Reid Chapman Matthews Powell Rogers Gibson Mills Webb Owen Palmer Thomson Holmes
Knight Barnes Hunt Harvey Hunter Stevens Lloyd Shah Jenkins Johnston Fisher Hamilton Butler Fox
Dixon Grant Walsh Ross Pearson Barker Andrews Fletcher Bradley Elliott Kennedy Reynolds West
Henderson Armstrong Gill Howard Burns Mcdonald Ford Oneill Day Saunders Brooks Lawrence Cole
Dawson Payne Obrien May Ryan Morrison Kaur Woods Williamson Black Pearce Davidson Atkinson
Spencer Macdonald Burton Wallace Hart Quinn Gordon Francis Dunn Ball Perry George Hayes Ferguson
Rahman Booth Stevenson John Wells Webster Miah Page Porter Carr Cunningham Hudson Berry Watts
Stone Oliver Riley Begum Lowe Rees Dean Barrett Newman Kerr Holland Fraser Marsh Nelson Gregory
Reed Gallagher Byrne Doyle Harper Jordan Bird Newton Gardner Lane Hawkins Higgins Alexander
Harding Parsons Shepherd Cooke Bates Duncan Long Douglas Burgess Nicholson Cross Cameron Doherty
Chambers Wang Freeman Robson Bishop Mccarthy Walton Parry Sharma Lynch Oconnor Warren Curtis
Sharp Li Yates Hardy Coleman Paterson Malik Crawford Hopkins Osborne Nicholls Baxter Moss Sutton
Donnelly Allan Burke Mahmood Griffin Potter Hodgson Craig Duffy Willis Marie Mclean Hutchinson
Mann Lawson Watkins Patterson Todd Austin Henry Arnold Blake Buckley Hewitt Kay Gilbert
Stephenson Slater Miles Pritchard Wheeler Rowe Walters Iqbal Jane Banks Hammond Mckenzie
Sullivan Stephens Chen Bond Peters Barber Paul Read Zhang Barton Frost Lambert Nash Middleton
Goodwin Kemp Boyle Fleming Clayton Sinclair Jennings Carroll Boyd Morton Greenwood Tucker Stokes
Lucas Mackenzie Mclaughlin French Barnett Stanley Law Holt Norman Fowler Jarvis Woodward Preston
Whitehead Lamb Love Fernandes Mccann Poole Daniels Bruce Farrell Flynn Smart Brennan Gibbs
Simmons Kirk Heath Connolly Chan Liu Smyth Uddin Akhtar Barlow Joseph Millar Hartley Thornton
Wong Knowles Mckay Reilly Parkinson Burrows Dickson Hayward Davison Sanders Field Mckenna Norris
Connor Steele Leigh Noble Townsend Kent Ashton Vaughan Holden Davey Owens Tomlinson Johnstone
Park Dale Skinner Reeves Briggs Brady Fuller Rhodes Mackay Odonnell Bolton Dickinson Abbott
Moran Glover Butt Thorpe Archer Maguire Little Weston Bryant Howe Conway Baldwin Birch Elizabeth
Sutherland Perkins Kane Savage Morley Lindsay Spence Cartwright Daniel Sanderson Bowen Bradshaw
Whittaker Brookes Hancock Dobson Wall Wade Waters Short Atkins Sweeney Bartlett Howell Kirby New
Warner Goddard Wilkins Chowdhury Rice Browne Ritchie Bentley Watt Daly Sheppard Charles Bull
Mcintyre Gibbons Joyce Cullen Haynes Mcmahon Nolan Winter Summers Giles Humphreys Lyons Munro
Gardiner Welsh Hope Sykes Turnbull Clements Dodd Hicks Coates David Dyer Schofield Vincent
Butcher Houghton Osullivan Pugh Blair Power Rodgers Cairns Mcmillan Gurung Hooper Gould Maxwell
Nixon Franklin Benson Milne Fitzpatrick Macleod Hobbs Jay Manning Marsden Logan Coles Cassidy
Christie Finch Muir Sharpe Forbes Barry Herbert
"""
US_TOP = """
Garcia Hernandez Rodriguez Lopez Martinez Gonzalez Smith Perez Johnson Sanchez Ramirez Williams
Jones Brown Flores Torres Patel Cruz Gomez Diaz Rivera Reyes Morales Davis Lee Miller Ortiz
Ramos Thomas Mendoza Castillo Gutierrez Ruiz Jackson Alvarez Jimenez Wilson Anderson Taylor
Aguilar Castro Martin Chavez Romero Singh Moore White Harris Herrera Vasquez Mendez Moreno
Thompson Vargas Medina Guzman Fernandez Lewis King Robinson Santos Marie Vazquez Walker Mejia
Alvarado Silva Allen Salazar Nguyen Green Young Soto Clark Scott James Gonzales Contreras Rojas
Wright Hall Khan Estrada Hill Kim Nelson Ortega Guerrero Maldonado Delgado Rios Adams Vega Garza
Sandoval Carter Santiago Mitchell Luna Campbell Acosta Dominguez Juarez Espinoza Molina Baker
Valdez Roberts Cabrera Edwards Joseph Ayala Munoz Rose Evans Fuentes Miranda Avila Parker Campos
Love Stewart Turner Escobar Figueroa Shah Rivas Marquez Leon Phillips Nunez Padilla Lara Navarro
Collins Cortez Morris Carrillo Bell Pineda Velasquez Morgan Murphy Rogers Solis Pena Ochoa
Cooper Alexander Kelly Chen Rosales Peterson Bailey Santana Duran Robles Cook Ross Salinas
Aguirre Richardson Howard Brooks Arias Serrano Calderon Cardenas Gray Cervantes Suarez Wang
Watson Bonilla Valencia Orozco Jordan Guerra Franco Reed Pacheco Sosa Velazquez Bennett Ward
Camacho Kumar Sanders Li Andrade Washington Bautista Barrera Coleman Foster Mora Tran Wong Wood
Price Lynn Ibarra Jenkins Black Powell Butler Cox Henderson Barnes Henry Gordon Nicole Perry
Long Salas Hughes Cortes Russell Guevara Kaur Benitez Portillo Cole Sullivan Roman Simmons West
Chan Graham Wallace Hamilton George Villa Zamora Villanueva Montoya Lozano Ford Rosario Woods
Patterson Melendez Zavala Fisher Murray Meza Myers Sharma Ellis Marshall Grant Palacios
Villarreal Beltran Rubio Amaya Bryant Rangel Griffin Tapia Ann Ponce Paul Harrison Hayes
Reynolds Macias Hunter Ray Freeman John Acevedo Kennedy Stevens Liu Valenzuela Orellana Mercado
Ventura Marin Charles Park Mcdonald Montes Cohen Trujillo Gibson Rosas Reddy Zuniga Moran Ryan
Stone Rocha Zhang Blanco Wells Peralta Elizabeth Murillo Dixon Colon Bravo Velez Porter Duarte
Jean Palmer Pierre Shaw Tucker Gallegos Owens Mason Quintero Castaneda Trejo Arellano Banks
Simpson Holmes Salgado Villegas Crawford Daniels Galvan Cisneros Huerta Mata Osorio Olson Fox
Reid Daniel Nava Lucas Robertson Alfaro Lawrence Richards Arroyo Knight Webb Mills Burns David
Yang Cardona Matthews Warren Corona Cuevas Hunt Boyd Le Spencer Medrano Paz Dunn Hawkins Lemus
Davila Bernal Armstrong Ferguson Cano Lin Payne Parra Franklin Hansen Andrews Lane Barajas Gill
Rice Gardner Hicks Angel Lugo Stephens Cantu Wu Meyer Cunningham Simon Duncan Berry Barrios
Riley May Hart Hudson Peters Correa Valle Sierra Zapata Esquivel Baez Chang Alonso Greene Kelley
Francis Anthony Jacobs Galindo Gupta Felix Michael Vera Austin Clarke Cordova Castellanos
Bradley Espinosa Wagner Villalobos Elliott Rosa Avalos Sims Trevino Morrison Schmidt Willis
Perkins Douglas Jensen Burke Oliver Pierce Carroll Nichols Jay Leal Esparza Gil Watkins Enriquez
Velasco Arnold Harper Argueta Pereira Huang Obrien Larson Tovar Day Johnston Lynch Carr
Caballero Carlson Hassan Paredes Aguilera Snyder Dean Chapman Guillen Montgomery Rodrigues
Gallardo Antonio Deleon Harvey Carranza Jose Maria Reyna Hanson Wheeler Gilbert Walsh Polanco
Hoffman Burton Davidson Weaver Louis Newman Nieves Zepeda Lawson Hurtado Mann Cordero Leyva
Jaramillo Quintana Barrett Yu Mccoy Carpenter Pearson Granados
"""


@lru_cache(maxsize=1)
def common_surnames() -> frozenset[str]:
    """Folded common surnames, both genders, in the scripts the lists give them in."""
    found: set[str] = set()
    for block in (KAZAKHSTAN_2014, KZ_TOP, RU_TOP, GB_TOP, US_TOP):
        for name in block.split():
            key = fold_key(name)
            found.add(key)
            found.update(other_gender(key))
    return frozenset(found)
