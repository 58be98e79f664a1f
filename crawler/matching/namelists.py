"""Common given names of the region's languages: "another person's given name" versus any word.

A family name found alone is not the watched person when a different given
name stands next to it (Kemel Tokayev, Oleksandr Bilash, Dilnoza Umarova).
These lists are the given names the matcher recognises as such, besides the
given names of every watch; each is spelled in its own script, and the matcher
adds transliterations and Russian case forms.
"""

from __future__ import annotations

KAZAKH = """
Абай Абылай Адиль Адилет Айбар Айбек Айдана Айдар Айдос Айгерім Айгүл Айжан Айман Аймира
Айнұр Айсұлу Айтолқын Ақбота Ақмарал Ақтоты Әлия Әлібек Алмас Алмат Алтынай Амангелді Анар
Арай Арман Арсен Аружан Асель Асқар Асылбек Әсем Ауыт Ая Бақыт Бақытжан Балжан Батыр Бауыржан
Бекболат Бекзат Бекжан Берік Болат Ботагөз Бұлбұл Ғалым Ғани Гүлнар Гүлмира Гүлназ Гүлшат
Дана Данияр Дариға Дәулет Дәурен Динара Ділназ Дінмұхамед Ержан Еркін Ерлан Ермек Ерболат Ербол
Жазира Жамбыл Жанар Жанат Жандос Жанна Жансая Жасұлан Жұлдыз Жұмабек Зарина Зауре Зейнеп Ілияс
Индира Қайрат Қалдыбек Қанат Қарлығаш Қасым Кемел Күләш Құрманғазы Қуаныш Ләззат Мадина Мақсат
Мәди Мәдина Мағжан Марат Мейрамбек Мерей Мирас Мұрат Мұхтар Назгүл Назым Нұрлан Нұржан Нұрсұлтан
Нұрбек Ораз Оралхан Өмірзақ Перизат Раушан Рахат Рүстем Сабина Сағат Сайрагүл Самал Сәуле Серік
Серікжан Сымбат Талғат Тимур Тоғжан Төлеген Ұлжан Ұлпан Ұлан Хадиша Шолпан Шыңғыс Ырысбек Эльмира
"""

RUSSIAN = """
Александр Александра Алексей Алла Анастасия Анатолий Андрей Анна Антон Аркадий Артём Борис
Вадим Валентин Валентина Валерий Василий Вера Виктор Виктория Виталий Владимир Владислав Галина
Геннадий Георгий Глеб Григорий Дарья Денис Дмитрий Евгений Евгения Екатерина Елена Елизавета
Иван Игорь Илья Инна Ирина Кирилл Константин Ксения Лариса Лев Леонид Любовь Людмила Максим
Маргарита Марина Мария Михаил Надежда Наталья Никита Николай Нина Оксана Олег Ольга Павел
Полина Роман Светлана Сергей Софья Станислав Степан Татьяна Фёдор Юлия Юрий Яна Ярослав
"""

UKRAINIAN = """
Oleksandr Oleksii Andrii Bohdan Dmytro Halyna Hryhorii Iryna Kateryna Mykola Mykhailo Olena
Oksana Petro Serhii Taras Volodymyr Yaroslav Yevhen Yurii Vasyl Vitalii Ivanna Liudmyla Nataliia
"""

CENTRAL_ASIAN = """
Dilnoza Dilshod Gulnora Gulchehra Jasur Javlon Kamola Laylo Malika Nodira Nigora Otabek Rustam
Sanjar Sardor Shahnoza Sherzod Ulugbek Umida Zarina Zulfiya Bakyt Aibek Azamat Cholpon Kubanych
Nurlan Almazbek Adilet Ilyas Abdulla Ablet Aygul Mihray Tursun Erkin Ilham Rahile Gulbahar
"""

ENGLISH = """
Adam Alan Albert Alex Alice Amanda Amy Andrew Angela Ann Anne Anthony Barbara Ben Benjamin Brian
Carol Catherine Charles Charlotte Chris Christopher Claire Daniel David Deborah Donald Edward
Elizabeth Emily Emma Eric Frank George Grace Hannah Harry Helen Henry Jack Jacob James Jane Jason
Jennifer Jessica Joan John Jonathan Joseph Joshua Julia Karen Kate Kevin Laura Linda Lisa Lucy
Margaret Mark Martin Mary Matthew Michael Michelle Nancy Nicholas Oliver Patricia Paul Peter
Rachel Richard Robert Ruth Ryan Samuel Sarah Simon Sophie Stephen Steven Susan Thomas Timothy
Victoria William
"""


def given_names() -> tuple[str, ...]:
    """Every bundled given name, in the script it is listed in."""
    return tuple(
        name
        for block in (KAZAKH, RUSSIAN, UKRAINIAN, CENTRAL_ASIAN, ENGLISH)
        for name in block.split()
    )
