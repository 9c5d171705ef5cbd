#include "train/corpus_data.h"

namespace spyglass::core {

const std::vector<std::pair<std::string, int>>& birthYears()
{
    static const std::vector<std::pair<std::string, int>> facts{
        {"William Shakespeare", 1564},
        {"Isaac Newton", 1643},
        {"Albert Einstein", 1879},
        {"Marie Curie", 1867},
        {"Charles Darwin", 1809},
        {"Abraham Lincoln", 1809},
        {"Leonardo da Vinci", 1452},
        {"Wolfgang Amadeus Mozart", 1756},
        {"Ludwig van Beethoven", 1770},
        {"Napoleon Bonaparte", 1769},
        {"Galileo Galilei", 1564},
        {"Johann Sebastian Bach", 1685},
        {"Jane Austen", 1775},
        {"Charles Dickens", 1812},
        {"Mark Twain", 1835},
        {"Nikola Tesla", 1856},
        {"Ada Lovelace", 1815},
        {"Alan Turing", 1912},
        {"George Washington", 1732},
        {"Queen Victoria", 1819},
        {"Florence Nightingale", 1820},
        {"Vincent van Gogh", 1853},
        {"Pablo Picasso", 1881},
        {"Sigmund Freud", 1856},
        {"Karl Marx", 1818},
        {"Frida Kahlo", 1907},
        {"Mahatma Gandhi", 1869},
        {"Winston Churchill", 1874},
        {"Leo Tolstoy", 1828},
        {"Christopher Columbus", 1451},
        {"Johannes Kepler", 1571},
        {"Nicolaus Copernicus", 1473},
        {"Louis Pasteur", 1822},
        {"Thomas Edison", 1847},
        {"Nelson Mandela", 1918},
        {"Rosa Parks", 1913},
        {"Emily Dickinson", 1830},
        {"Virginia Woolf", 1882},
        {"Martin Luther King Jr.", 1929},
        {"Michelangelo Buonarroti", 1475},
    };
    return facts;
}

const std::vector<NamedList>& namedLists()
{
    static const std::vector<NamedList> lists{
        {"Days of the week", {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}},
        {"Months of the year",
         {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November",
          "December"}},
        {"Colours of the rainbow", {"red", "orange", "yellow", "green", "blue", "indigo", "violet"}},
        {"Planets of the solar system",
         {"Mercury", "Venus", "Earth", "Mars", "Jupiter", "Saturn", "Uranus", "Neptune"}},
        {"Countries in Europe",
         {"France", "Germany", "Italy", "Spain", "Portugal", "Belgium", "Netherlands", "Austria", "Switzerland",
          "Poland", "Sweden", "Norway", "Denmark", "Finland", "Greece", "Ireland"}},
        {"Numbers in words",
         {"one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"}},
    };
    return lists;
}

}  // namespace spyglass::core
